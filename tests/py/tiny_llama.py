"""A small decoder-only transformer in plain torch.nn, shaped and named like HF Llama
(model.embed_tokens, model.layers.N.{input_layernorm, self_attn.{q,k,v,o}_proj, post_attention_layernorm,
mlp.{gate,up,down}_proj}, model.norm, lm_head), with deterministic weights from a seed.
Token 0 is the prefill of the prompt, later tokens are single-token decode steps over a KV cache."""
import math

import torch
from torch import nn


class Config:
    def __init__(self, vocab=128, hidden=64, intermediate=172, layers=4, heads=4, rope_theta=10000.0, eps=1e-6):
        self.vocab, self.hidden, self.intermediate = vocab, hidden, intermediate
        self.layers, self.heads, self.rope_theta, self.eps = layers, heads, rope_theta, eps


class RMSNorm(nn.Module):
    def __init__(self, hidden, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden))
        self.eps = eps

    def forward(self, x):
        dtype = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x.to(dtype)


class RotaryEmbedding(nn.Module):
    def __init__(self, dim, theta):
        super().__init__()
        self.register_buffer("inv_freq", 1.0 / theta ** (torch.arange(0, dim, 2).float() / dim), persistent=False)

    def forward(self, x, position_ids):
        freqs = position_ids.float()[:, :, None] * self.inv_freq[None, None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(x.dtype), emb.sin().to(x.dtype)


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.heads, self.head_dim = cfg.heads, cfg.hidden // cfg.heads
        self.q_proj = nn.Linear(cfg.hidden, cfg.hidden, bias=False)
        self.k_proj = nn.Linear(cfg.hidden, cfg.hidden, bias=False)
        self.v_proj = nn.Linear(cfg.hidden, cfg.hidden, bias=False)
        self.o_proj = nn.Linear(cfg.hidden, cfg.hidden, bias=False)
        self.rotary_emb = RotaryEmbedding(self.head_dim, cfg.rope_theta)
        self.cache = None

    def forward(self, x, position_ids):
        b, s, _ = x.shape
        q = self.q_proj(x).view(b, s, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, s, self.heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, s, self.heads, self.head_dim).transpose(1, 2)
        cos, sin = self.rotary_emb(v, position_ids)
        cos, sin = cos[:, None], sin[:, None]
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if self.cache is not None:
            k = torch.cat((self.cache[0], k), dim=2)
            v = torch.cat((self.cache[1], v), dim=2)
        self.cache = (k, v)
        scores = q @ k.transpose(2, 3) / math.sqrt(self.head_dim)
        total = k.shape[2]
        causal = torch.ones(s, total, dtype=torch.bool).tril(total - s)
        scores = scores.masked_fill(~causal, torch.finfo(scores.dtype).min)
        probs = torch.softmax(scores.float(), dim=-1).to(q.dtype)
        out = (probs @ v).transpose(1, 2).reshape(b, s, -1)
        return self.o_proj(out)


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.gate_proj = nn.Linear(cfg.hidden, cfg.intermediate, bias=False)
        self.up_proj = nn.Linear(cfg.hidden, cfg.intermediate, bias=False)
        self.down_proj = nn.Linear(cfg.intermediate, cfg.hidden, bias=False)
        self.act_fn = nn.SiLU()

    def forward(self, x):
        return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.hidden, cfg.eps)
        self.self_attn = Attention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg.hidden, cfg.eps)
        self.mlp = MLP(cfg)

    def forward(self, x, position_ids):
        x = x + self.self_attn(self.input_layernorm(x), position_ids)
        return x + self.mlp(self.post_attention_layernorm(x))


class TinyLlamaModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg.vocab, cfg.hidden)
        self.layers = nn.ModuleList(DecoderLayer(cfg) for _ in range(cfg.layers))
        self.norm = RMSNorm(cfg.hidden, cfg.eps)

    def forward(self, input_ids, position_ids):
        x = self.embed_tokens(input_ids)
        for layer in self.layers:
            x = layer(x, position_ids)
        return self.norm(x)


class TinyLlamaForCausalLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.model = TinyLlamaModel(cfg)
        self.lm_head = nn.Linear(cfg.hidden, cfg.vocab, bias=False)

    def forward(self, input_ids, position_ids):
        return self.lm_head(self.model(input_ids, position_ids))

    def reset_cache(self):
        for m in self.modules():
            if isinstance(m, Attention):
                m.cache = None


def build(seed=0, cfg=None, dtype=torch.float32):
    """A model whose weights depend only on SEED (and CFG): every parameter drawn in
    named_parameters order from one generator; norms start near one."""
    cfg = cfg or Config()
    model = TinyLlamaForCausalLM(cfg)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("layernorm.weight") or name.endswith("norm.weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=gen))
            else:
                fan_in = p.shape[-1]
                p.copy_(torch.randn(p.shape, generator=gen) / math.sqrt(fan_in))
    return model.eval().to(dtype)


def prompt(seed=0, length=8, vocab=128):
    gen = torch.Generator().manual_seed(seed + 1)
    return torch.randint(0, vocab, (1, length), generator=gen)


@torch.no_grad()
def generate(model, input_ids, steps, forced=None):
    """Greedy generation of STEPS tokens (STEPS forward calls: prefill, then decode steps).
    FORCED, a list of token ids, replaces the greedy choice (teacher forcing), so that two models
    see the same inputs at every step. Returns the greedy choices."""
    model.reset_cache()
    chosen = []
    ids = input_ids
    start = 0
    for step in range(steps):
        positions = torch.arange(start, start + ids.shape[1])[None, :]
        logits = model(ids, positions)
        nxt = int(logits[0, -1].float().argmax())
        chosen.append(nxt)
        start += ids.shape[1]
        ids = torch.tensor([[forced[step] if forced is not None else nxt]])
    return chosen
