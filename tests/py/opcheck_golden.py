"""Reference outputs for the opcheck kernel tests, computed with numpy from the textbook formulas
(independent of the C++ kernels). Writes OUT.json: a list of cases, each with op type, param,
inputs and expected outputs (dtype, shape, values). Usage: opcheck_golden.py OUT.json"""
import json
import math
import sys

import numpy as np

rng = np.random.RandomState(7)
cases = []

DT = {np.float32: "float32", np.float16: "float16", np.int8: "int8", np.int32: "int32", np.int64: "int64"}


def t(a):
    a = np.asarray(a)
    return {"dtype": DT[a.dtype.type], "shape": list(a.shape), "values": [v.item() for v in a.reshape(-1)]}


def case(name, op, param, inputs, outputs, tol=2e-6):
    cases.append({"name": name, "op": op, "param": param, "inputs": [t(i) for i in inputs],
                  "outputs": [t(o) for o in outputs], "tol": tol})


def f32(*shape):
    return rng.uniform(-2, 2, size=shape).astype(np.float32)


# Linear / Matmul
x, w, b = f32(5, 7), f32(3, 7), f32(3)
case("linear_transb_bias", "LinearOperation", {"transposeA": False, "transposeB": True, "hasBias": True},
     [x, w, b], [x @ w.T + b])
x, w = f32(7, 5), f32(7, 3)
case("linear_transa", "LinearOperation", {"transposeA": True, "transposeB": False}, [x, w], [x.T @ w])
x, w = f32(2, 4, 6), f32(6, 3)
case("linear_3d", "LinearOperation", {"transposeA": False, "transposeB": False}, [x, w], [x @ w])
x, w = f32(96, 64), f32(80, 64)
case("linear_threaded", "LinearOperation", {"transposeA": False, "transposeB": True}, [x, w], [x @ w.T], tol=1e-5)
w4 = f32(1, 3, 6, 4)  # [1, d1, d2, d3] -> [d2, d1*d3] = [6, 12]
wm = w4.transpose(0, 2, 1, 3).reshape(6, 12)
x = f32(2, 12)
case("linear_4d_weight", "LinearOperation", {"transposeA": False, "transposeB": True}, [x, w4], [x @ wm.T])
xi = rng.randint(-5, 6, size=(3, 4)).astype(np.int8)
wi = rng.randint(-5, 6, size=(2, 4)).astype(np.int8)
bi = np.array([3, -7], dtype=np.int32)
deq = np.array([0.5, 0.1], dtype=np.float32)
deq_i64 = deq.view(np.int32).astype(np.int64)
y = ((xi.astype(np.float32) @ wi.astype(np.float32).T) + bi) * deq
case("linear_int8_deq_fp16", "LinearOperation",
     {"transposeA": False, "transposeB": True, "hasBias": True, "outDataType": 1},
     [xi, wi, bi, deq_i64], [y.astype(np.float16)])
xh, wh = f32(4, 8).astype(np.float16), f32(8, 3).astype(np.float16)
case("matmul_half", "MatmulOperation", {"transposeA": False, "transposeB": False}, [xh, wh],
     [(xh.astype(np.float32) @ wh.astype(np.float32)).astype(np.float16)])

# Elewise
a, b = f32(2, 3), f32(3)
case("elewise_add_broadcast", "ElewiseOperation", {"elewiseType": 8}, [a, b], [a + b])
case("elewise_mul", "ElewiseOperation", {"elewiseType": 9}, [a, b], [a * b])
case("elewise_realdiv", "ElewiseOperation", {"elewiseType": 10}, [a, b], [a / b])
case("elewise_sub", "ElewiseOperation", {"elewiseType": 15}, [a, b], [a - b])
case("elewise_less", "ElewiseOperation", {"elewiseType": 13}, [a, b], [(a < b).astype(np.int8)])
case("elewise_greater", "ElewiseOperation", {"elewiseType": 14}, [a, b], [(a > b).astype(np.int8)])
case("elewise_muls", "ElewiseOperation", {"elewiseType": 2, "mulsParam": {"varAttr": 1.5}}, [a],
     [a * np.float32(1.5)])
case("elewise_cos", "ElewiseOperation", {"elewiseType": 3}, [a], [np.cos(a)])
case("elewise_sin", "ElewiseOperation", {"elewiseType": 4}, [a], [np.sin(a)])
case("elewise_neg", "ElewiseOperation", {"elewiseType": 5}, [a], [-a])
case("elewise_tanh", "ElewiseOperation", {"elewiseType": 20}, [a], [np.tanh(a)])
x = f32(3, 4) * 40
scale = np.array([0.5, 1.0, 2.0, 0.25], dtype=np.float32)
offset = np.array([1, -2, 0, 3], dtype=np.float32)
q = np.clip(np.round(x / scale) + offset, -128, 127).astype(np.int8)
case("elewise_quant_per_channel", "ElewiseOperation", {"elewiseType": 17}, [x, scale, offset], [q])
x = f32(3, 5)
amax = np.abs(x).max(axis=-1, keepdims=True)
case("elewise_dynamic_quant_sym", "ElewiseOperation", {"elewiseType": 19}, [x],
     [np.round(x * 127 / amax).astype(np.int8), (amax[:, 0] / 127).astype(np.float32)])

# Activation
x = f32(4, 6)
erf = np.vectorize(math.erf)
case("act_relu", "ActivationOperation", {"activationType": 1}, [x], [np.maximum(x, 0)])
case("act_gelu_tanh", "ActivationOperation", {"activationType": 2},
     [x], [0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))], tol=1e-5)
case("act_gelu_erf", "ActivationOperation", {"activationType": 2, "geluMode": 1},
     [x], [(0.5 * x * (1 + erf(x / math.sqrt(2)))).astype(np.float32)], tol=1e-5)
case("act_fast_gelu", "ActivationOperation", {"activationType": 3}, [x], [x / (1 + np.exp(-1.702 * x))], tol=1e-5)
case("act_swish", "ActivationOperation", {"activationType": 4, "scale": 0.5}, [x], [x / (1 + np.exp(-0.5 * x))],
     tol=1e-5)
case("act_log", "ActivationOperation", {"activationType": 5}, [np.abs(x) + 0.1], [np.log(np.abs(x) + 0.1)])
g, u = x[:, :3], x[:, 3:]
case("act_swiglu", "ActivationOperation", {"activationType": 6, "dim": -1}, [x], [g / (1 + np.exp(-g)) * u],
     tol=1e-5)

# RmsNorm
x, gamma = f32(3, 8), f32(8)
rms = np.sqrt((x * x).mean(-1, keepdims=True) + 1e-5)
case("rmsnorm_norm", "RmsNormOperation", {"layerType": 1, "normParam": {"epsilon": 1e-5}}, [x, gamma],
     [x / rms * gamma], tol=1e-5)
case("rmsnorm_gemma_rstd", "RmsNormOperation",
     {"layerType": 1, "normParam": {"epsilon": 1e-5, "modelType": 1, "rstd": True}}, [x, gamma],
     [x / rms * (1 + gamma), (1 / rms).astype(np.float32)], tol=1e-5)
r = f32(3, 8)
s = x + r
rms_s = np.sqrt((s * s).mean(-1, keepdims=True) + 1e-6)
case("rmsnorm_prenorm", "RmsNormOperation", {"layerType": 2, "preNormParam": {"epsilon": 1e-6}}, [x, r, gamma],
     [s / rms_s * gamma, s], tol=1e-5)
case("rmsnorm_postnorm", "RmsNormOperation", {"layerType": 3, "postNormParam": {"epsilon": 1e-6}}, [x, r, gamma],
     [s / rms_s * gamma], tol=1e-5)
beta, qs, qo = f32(8), np.array([0.02], np.float32), np.array([3], np.float32)
case("rmsnorm_quant", "RmsNormOperation", {"layerType": 1, "normParam": {"quantType": 2, "epsilon": 1e-5}},
     [x, gamma, beta, qs, qo], [np.clip(np.round((x / rms * gamma + beta) / qs + qo), -128, 127).astype(np.int8)])

# LayerNorm
x, gamma, beta = f32(4, 6), f32(6), f32(6)
mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
case("layernorm_norm", "LayerNormOperation", {"layerType": 1, "normParam": {"epsilon": 1e-5, "beginNormAxis": -1}},
     [x, gamma, beta], [(x - mu) / np.sqrt(var + 1e-5) * gamma + beta], tol=1e-5)
r = f32(4, 6)
y = x + 0.5 * r
mu, var = y.mean(-1, keepdims=True), y.var(-1, keepdims=True)
case("layernorm_prenorm", "LayerNormOperation",
     {"layerType": 2, "preNormParam": {"epsilon": 1e-5, "zoomScaleValue": 0.5}}, [x, r, gamma, beta],
     [(y - mu) / np.sqrt(var + 1e-5) * gamma + beta, y], tol=1e-5)

# Softmax
x = f32(2, 3, 4)
e = np.exp(x - x.max(1, keepdims=True))
case("softmax_axis1", "SoftmaxOperation", {"axes": [1]}, [x], [e / e.sum(1, keepdims=True)])


# Rope
def rotate_half(v):
    h = v.shape[-1] // 2
    return np.concatenate([-v[..., h:], v[..., :h]], -1)


tokens, heads, hd = 6, 2, 8
q, k = f32(tokens, heads * hd), f32(tokens, heads * hd)
pos = np.arange(tokens)[:, None] * (1.0 / 10000 ** (np.arange(hd // 2) / (hd // 2)))[None, :]
cos = np.cos(np.concatenate([pos, pos], -1)).astype(np.float32)
sin = np.sin(np.concatenate([pos, pos], -1)).astype(np.float32)
seqlen = np.array([3], dtype=np.int32)


def rope2(v):
    v3 = v.reshape(tokens, heads, hd)
    return (v3 * cos[:, None] + rotate_half(v3) * sin[:, None]).reshape(tokens, heads * hd)


def rope4(v):
    v3 = v.reshape(tokens, heads, hd)
    h = hd // 2
    a = v3[..., :h] * cos[:, None, :h] + rotate_half(v3[..., :h]) * sin[:, None, :h]
    b = v3[..., h:] * cos[:, None, h:] + rotate_half(v3[..., h:]) * sin[:, None, h:]
    return np.concatenate([a, b], -1).reshape(tokens, heads * hd)


def rope_interleaved(v):
    v3 = v.reshape(tokens, heads, hd)
    c, s_ = cos[:, None, 0::2], sin[:, None, 0::2]
    even, odd = v3[..., 0::2], v3[..., 1::2]
    out = np.empty_like(v3)
    out[..., 0::2] = even * c - odd * s_
    out[..., 1::2] = odd * c + even * s_
    return out.reshape(tokens, heads * hd)


case("rope_coeff2", "RopeOperation", {"rotaryCoeff": 2}, [q, k, cos, sin, seqlen], [rope2(q), rope2(k)])
case("rope_coeff4", "RopeOperation", {"rotaryCoeff": 4}, [q, k, cos, sin, seqlen], [rope4(q), rope4(k)])
case("rope_interleaved", "RopeOperation", {"rotaryCoeff": hd}, [q, k, cos, sin, seqlen],
     [rope_interleaved(q), rope_interleaved(k)])


# Attention
def softmax(v):
    e = np.exp(v - v.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def attention(q3, k3, v3, scale, mask=None, q_scale=1.0, after=False, clamp=None):
    # q3 [s, H, d], k3/v3 [t, KVH, d]; returns [s, H, d]
    group = q3.shape[1] // k3.shape[1]
    out = np.zeros((q3.shape[0], q3.shape[1], v3.shape[2]), np.float32)
    for h in range(q3.shape[1]):
        sc = (q3[:, h] * q_scale) @ k3[:, h // group].T
        if not after:
            sc = sc * scale
        if clamp is not None:
            sc = np.clip(sc, clamp[0], clamp[1])
        if mask is not None:
            sc = sc + mask
        if after:
            sc = sc * scale
        out[:, h] = softmax(sc) @ v3[:, h // group]
    return out


H, KVH, d = 4, 2, 8
seqs = [3, 5]
ntok = sum(seqs)
q, k, v = f32(ntok, H * d), f32(ntok, KVH * d), f32(ntok, KVH * d)
maxs = 8
mask = (np.triu(np.ones((maxs, maxs)), 1) * -10000).astype(np.float32)
out, row = np.zeros((ntok, H * d), np.float32), 0
for s in seqs:
    out[row:row + s] = attention(q[row:row + s].reshape(s, H, d), k[row:row + s].reshape(s, KVH, d),
                                 v[row:row + s].reshape(s, KVH, d), 0.35, mask[:s, :s]).reshape(s, H * d)
    row += s
case("self_attention_encoder_gqa", "SelfAttentionOperation",
     {"headNum": H, "kvHeadNum": KVH, "qkScale": 0.35, "calcType": 3, "maskType": 1},
     [q, k, v, mask, np.array(seqs, np.int32)], [out], tol=1e-5)

# KV-cache flash attention: batch 0 decodes 1 token after 4 cached, batch 1 prefills 3.
layers, batch = 2, 2
cache_k, cache_v = f32(layers, batch, maxs, KVH * d), f32(layers, batch, maxs, KVH * d)
seq_b, off_b = [1, 3], [5, 3]
q, k, v = f32(4, H * d), f32(4, KVH * d), f32(4, KVH * d)
out, row = np.zeros((4, H * d), np.float32), 0
for bi in range(batch):
    s, off = seq_b[bi], off_b[bi]
    keys = np.concatenate([cache_k[1, bi, :off - s], k[row:row + s]])
    vals = np.concatenate([cache_v[1, bi, :off - s], v[row:row + s]])
    m = mask[off - s:off, :off]
    out[row:row + s] = attention(q[row:row + s].reshape(s, H, d), keys.reshape(off, KVH, d),
                                 vals.reshape(off, KVH, d), 0.5, m, q_scale=0.7, after=True,
                                 clamp=(-3.0, 3.0)).reshape(s, H * d)
    row += s
case("self_attention_kv_cache_clamp", "SelfAttentionOperation",
     {"headNum": H, "kvHeadNum": KVH, "qScale": 0.7, "qkScale": 0.5, "maskType": 1, "clampType": 1,
      "clampMin": -3.0, "clampMax": 3.0},
     [q, k, v, cache_k, cache_v, mask, np.array(off_b, np.int32), np.array(seq_b, np.int32),
      np.array([1], np.int32)], [out], tol=1e-5)

# Bypass: attention over the caches only (kvcacheCfg 1), no mask.
kv_lens, q_lens = [6, 2], [1, 2]
q = f32(3, H * d)
out, row = np.zeros((3, H * d), np.float32), 0
for bi in range(batch):
    s, t_ = q_lens[bi], kv_lens[bi]
    out[row:row + s] = attention(q[row:row + s].reshape(s, H, d), cache_k[0, bi, :t_].reshape(t_, KVH, d),
                                 cache_v[0, bi, :t_].reshape(t_, KVH, d), 0.25).reshape(s, H * d)
    row += s
case("self_attention_bypass", "SelfAttentionOperation",
     {"headNum": H, "kvHeadNum": KVH, "qkScale": 0.25, "kvcacheCfg": 1},
     [q, cache_k, cache_v, np.array(kv_lens, np.int32), np.array(q_lens, np.int32), np.array([0], np.int32)],
     [out], tol=1e-5)

# Paged attention: 2 sequences, block size 4, GQA.
blocks, bs = 6, 4
kc, vc = f32(blocks, bs, KVH, d), f32(blocks, bs, KVH, d)
tables = np.array([[2, 0, 5], [4, 1, 3]], np.int32)
ctx = [7, 10]
q = f32(2, H, d)
out = np.zeros((2, H, d), np.float32)
for bi in range(2):
    idx = [tables[bi, j // bs] * bs + j % bs for j in range(ctx[bi])]
    keys = kc.reshape(-1, KVH, d)[idx]
    vals = vc.reshape(-1, KVH, d)[idx]
    out[bi] = attention(q[bi:bi + 1], keys, vals, 0.3)[0]
case("paged_attention_gqa", "PagedAttentionOperation", {"headNum": H, "kvHeadNum": KVH, "qkScale": 0.3},
     [q, kc, vc, tables, np.array(ctx, np.int32)], [out], tol=1e-5)

# Shape operations
a, b = f32(2, 3, 4), f32(2, 1, 4)
case("concat_dim1", "ConcatOperation", {"concatDim": -2}, [a, b], [np.concatenate([a, b], 1)])
case("slice", "SliceOperation", {"offsets": [1, -2, 0], "size": [1, -1, 3]}, [a], [a[1:2, 1:, 0:3]])
x = f32(7, 4)
case("split_chunk3", "SplitOperation", {"splitDim": 0, "splitNum": 3}, [x], [x[0:3], x[3:6], x[6:7]])
case("split_sizes", "SplitOperation", {"splitDim": 1, "splitSizes": [1, 3]}, [x], [x[:, :1], x[:, 1:]])
emb, ids = f32(10, 4), np.array([[3, 0], [9, 3]], np.int64)
case("gather_embedding", "GatherOperation", {"axis": 0}, [emb, ids], [emb[ids]])
x3 = f32(2, 5, 3)
ids3 = np.array([[4, 0], [1, 1]], np.int32)
case("gather_axis1", "GatherOperation", {"axis": 1}, [x3, ids3], [x3[:, ids3]])
idx = rng.randint(0, 5, size=(2, 2, 3)).astype(np.int64)
case("gather_batchdims", "GatherOperation", {"axis": 1, "batchDims": 1}, [x3, idx],
     [np.take_along_axis(x3, idx, axis=1)])
case("transpose", "TransposeOperation", {"perm": [2, 0, 1]}, [x3], [x3.transpose(2, 0, 1)])
flat = f32(20)
case("as_strided", "AsStridedOperation", {"size": [3, 2], "stride": [4, 3], "offset": [2]}, [flat],
     [np.lib.stride_tricks.as_strided(flat[2:], shape=(3, 2), strides=(16, 12)).copy()])
x = f32(2, 3)
case("repeat", "RepeatOperation", {"multiples": [2, 1, 3]}, [x], [np.tile(x, (2, 1, 3))])
case("cumsum", "CumsumOperation", {"axes": [1]}, [x3], [np.cumsum(x3, 1)], tol=1e-5)
case("reduce_sum", "ReduceOperation", {"reduceType": 3, "axis": [0, 2]}, [x3], [x3.sum((0, 2))], tol=1e-5)
case("reduce_max", "ReduceOperation", {"reduceType": 1, "axis": [1]}, [x3], [x3.max(1)])
cond = np.array([[1], [0]], np.int8)
a, b = f32(2, 3), f32(3)
case("where_broadcast", "WhereOperation", {}, [cond, a, b], [np.where(cond != 0, a, b)])
m = np.array([[1, 0, 1], [0, 0, 1]], np.int8)
case("fill_masked", "FillOperation", {"withMask": True, "value": [-7.5]}, [a, m], [np.where(m != 0, -7.5, a).astype(np.float32)])
x = np.array([[3, 1, 4, 1, 5], [9, 2, 6, 5, 3]], np.float32)
case("sort_topk", "SortOperation", {"num": [3]}, [x],
     [np.array([[5, 4, 3], [9, 6, 5]], np.float32), np.array([[4, 2, 0], [0, 2, 3]], np.int32)])

# Caches
kcache, vcache = f32(3, 2, 2, 4), f32(3, 2, 2, 4)
key, val = f32(3, 2, 4), f32(3, 2, 4)
slots = np.array([5, -1, 0], np.int32)
kc2, vc2 = kcache.copy().reshape(6, 2, 4), vcache.copy().reshape(6, 2, 4)
for i, sl in enumerate(slots):
    if sl >= 0:
        kc2[sl], vc2[sl] = key[i], val[i]
case("reshape_and_cache", "ReshapeAndCacheOperation", {}, [key, val, kcache, vcache, slots],
     [kc2.reshape(kcache.shape), vc2.reshape(vcache.shape)])
cache = f32(2, 2, 6, 4)
newkv = f32(4, 4)
exp_cache = cache.copy()
exp_cache[1, 0, 2:5] = newkv[0:3]  # offset 5, seqlen 3
exp_cache[1, 1, 3:4] = newkv[3:4]  # offset 4, seqlen 1
case("kv_cache", "KvCacheOperation", {}, [newkv, np.array([1], np.int32), cache, np.array([5, 4], np.int32),
                                          np.array([3, 1], np.int32)], [exp_cache])

with open(sys.argv[1], "w") as f:
    json.dump(cases, f)
