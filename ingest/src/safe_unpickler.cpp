#include "safe_unpickler.h"

#include <bit>
#include <cstring>
#include <limits>

#include "aitdb/schema/errors.h"

namespace aitdb::ingest {
namespace {

constexpr std::size_t kMaxObjects = 8U << 20U;
constexpr std::size_t kMaxMemo = 1U << 20U;
constexpr std::uint32_t kEmpty = std::numeric_limits<std::uint32_t>::max();

// The only callables a tensor pickle may name (docs/formats.md).
constexpr std::pair<const char*, const char*> kCallables[] = {
    {"torch._utils", "_rebuild_tensor_v2"},
    {"torch._utils", "_rebuild_tensor"},
    {"torch._utils", "_rebuild_parameter"},
    {"torch._utils", "_rebuild_parameter_with_state"},
    {"torch_npu.utils.storage", "_rebuild_npu_tensor"},
    {"collections", "OrderedDict"},
};

}  // namespace

SafeUnpickler::SafeUnpickler(std::string_view pickle, std::string file) : p_(pickle), file_(std::move(file)) {}

void SafeUnpickler::fail(const std::string& reason) const {
  throw FormatError(file_, "pickle: " + reason);
}

std::uint32_t SafeUnpickler::make(PyObject o) {
  if (objects_.size() >= kMaxObjects) fail("too many objects");
  objects_.push_back(std::move(o));
  return static_cast<std::uint32_t>(objects_.size() - 1);
}

std::uint32_t SafeUnpickler::pop() {
  if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) fail("stack underflow");
  const auto v = stack_.back();
  stack_.pop_back();
  return v;
}

std::uint32_t SafeUnpickler::top() const {
  if (stack_.empty()) fail("stack underflow");
  return stack_.back();
}

std::vector<std::uint32_t> SafeUnpickler::pop_to_mark() {
  if (marks_.empty()) fail("MARK expected");
  const std::size_t m = marks_.back();
  marks_.pop_back();
  std::vector<std::uint32_t> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
  stack_.resize(m);
  return items;
}

std::uint8_t SafeUnpickler::u8() {
  if (pos_ >= p_.size()) fail("truncated");
  return static_cast<std::uint8_t>(p_[pos_++]);
}

std::uint64_t SafeUnpickler::uint_le(int n) {
  std::uint64_t v = 0;
  for (int k = 0; k < n; ++k) v |= static_cast<std::uint64_t>(u8()) << (8U * static_cast<unsigned>(k));
  return v;
}

std::string_view SafeUnpickler::bytes(std::uint64_t n) {
  if (n > p_.size() - pos_) fail("truncated: a length runs past the end");
  const auto v = p_.substr(pos_, static_cast<std::size_t>(n));
  pos_ += static_cast<std::size_t>(n);
  return v;
}

std::string SafeUnpickler::line() {
  const auto nl = p_.find('\n', pos_);
  if (nl == std::string_view::npos) fail("truncated: unterminated line");
  std::string s(p_.substr(pos_, nl - pos_));
  pos_ = nl + 1;
  return s;
}

void SafeUnpickler::memo_put(std::uint64_t slot, std::uint32_t obj) {
  if (slot >= kMaxMemo) fail("memo index too large");
  if (slot >= memo_.size()) memo_.resize(static_cast<std::size_t>(slot) + 1, kEmpty);
  memo_[static_cast<std::size_t>(slot)] = obj;
}

std::uint32_t SafeUnpickler::global(const std::string& module, const std::string& name) {
  bool allowed = false;
  if (module == "torch") {
    allowed = dtype_from_torch_storage(name).has_value();
  }
  for (const auto& [m, n] : kCallables) allowed = allowed || (module == m && name == n);
  if (!allowed) fail("refers to " + module + "." + name + ", which is not on the tensor allow-list (refused)");
  PyObject o;
  o.kind = PyObject::Kind::Global;
  o.s = module;
  o.s2 = name;
  return make(std::move(o));
}

std::int64_t SafeUnpickler::as_int(std::uint32_t idx, const char* what) const {
  const auto& o = objects_[idx];
  if (o.kind != PyObject::Kind::Int && o.kind != PyObject::Kind::Bool) fail(std::string(what) + " is not an integer");
  return o.i;
}

std::vector<std::int64_t> SafeUnpickler::as_int_tuple(std::uint32_t idx, const char* what) const {
  const auto& o = objects_[idx];
  if (o.kind != PyObject::Kind::Tuple && o.kind != PyObject::Kind::List) fail(std::string(what) + " is not a tuple");
  std::vector<std::int64_t> v;
  for (const auto it : o.items) v.push_back(as_int(it, what));
  return v;
}

std::uint32_t SafeUnpickler::persistent_load(std::uint32_t pid) {
  // ('storage', <torch.XStorage>, key, location, numel)
  const auto& t = objects_[pid];
  if (t.kind != PyObject::Kind::Tuple || t.items.size() < 5) fail("persistent id is not a storage tuple");
  const auto& tag = objects_[t.items[0]];
  const auto& type = objects_[t.items[1]];
  const auto& key = objects_[t.items[2]];
  const auto& loc = objects_[t.items[3]];
  if (tag.kind != PyObject::Kind::Str || tag.s != "storage") fail("persistent id is not tagged 'storage'");
  if (type.kind != PyObject::Kind::Global || type.s != "torch") fail("persistent id has no storage type");
  if (key.kind != PyObject::Kind::Str || loc.kind != PyObject::Kind::Str) fail("storage key/location are not strings");
  PyObject o;
  o.kind = PyObject::Kind::Storage;
  const auto storage_dtype = dtype_from_torch_storage(type.s2);
  if (!storage_dtype) fail("storage type torch." + type.s2 + " is not supported");
  o.dtype = *storage_dtype;
  o.s = key.s;
  o.s2 = loc.s;
  o.i = as_int(t.items[4], "storage size");
  if (o.i < 0) fail("negative storage size");
  return make(std::move(o));
}

std::uint32_t SafeUnpickler::rebuild_tensor(const std::vector<std::uint32_t>& args) {
  if (args.size() < 4) fail("tensor rebuild has too few arguments");
  if (objects_[args[0]].kind != PyObject::Kind::Storage) fail("tensor rebuild without a storage");
  PyObject o;
  o.kind = PyObject::Kind::Tensor;
  o.storage = args[0];
  o.offset = as_int(args[1], "storage offset");
  o.size = as_int_tuple(args[2], "tensor size");
  o.stride = as_int_tuple(args[3], "tensor stride");
  if (o.size.size() != o.stride.size()) fail("tensor size and stride have different ranks");
  return make(std::move(o));
}

std::uint32_t SafeUnpickler::reduce(std::uint32_t callable, std::uint32_t args_idx) {
  const PyObject& c = objects_[callable];
  const PyObject& a = objects_[args_idx];
  if (c.kind != PyObject::Kind::Global) fail("REDUCE on something that is not an allowed callable");
  if (a.kind != PyObject::Kind::Tuple) fail("REDUCE arguments are not a tuple");
  const std::vector<std::uint32_t> args = a.items;
  const std::string name = c.s2;
  if (name == "_rebuild_tensor_v2" || name == "_rebuild_tensor" || name == "_rebuild_npu_tensor") {
    return rebuild_tensor(args);
  }
  if (name == "_rebuild_parameter" || name == "_rebuild_parameter_with_state") {
    if (args.empty() || objects_[args[0]].kind != PyObject::Kind::Tensor) fail("parameter rebuild without a tensor");
    return args[0];
  }
  if (name == "OrderedDict") {
    if (!args.empty()) fail("OrderedDict with constructor arguments is not supported");
    PyObject d;
    d.kind = PyObject::Kind::Dict;
    return make(std::move(d));
  }
  fail("torch." + name + " cannot be called");  // storage classes are not callables
}

std::uint32_t SafeUnpickler::run() {
  using K = PyObject::Kind;
  const auto push_new = [&](PyObject o) { stack_.push_back(make(std::move(o))); };
  const auto scalar = [](K kind, std::int64_t i) {
    PyObject o;
    o.kind = kind;
    o.i = i;
    return o;
  };
  const auto text = [](K kind, std::string_view s) {
    PyObject o;
    o.kind = kind;
    o.s = std::string(s);
    return o;
  };
  const auto tuple_of = [&](std::vector<std::uint32_t> items) {
    PyObject o;
    o.kind = K::Tuple;
    o.items = std::move(items);
    return o;
  };
  while (true) {
    const std::uint8_t op = u8();
    switch (op) {
      case 0x80: u8(); break;                          // PROTO
      case 0x95: uint_le(8); break;                    // FRAME
      case '.': {                                      // STOP
        const auto r = pop();
        return r;
      }
      case '(': marks_.push_back(stack_.size()); break;  // MARK
      case 'N': push_new(PyObject{}); break;
      case 0x88: push_new(scalar(K::Bool, 1)); break;  // NEWTRUE
      case 0x89: push_new(scalar(K::Bool, 0)); break;  // NEWFALSE
      case 'J': push_new(scalar(K::Int, static_cast<std::int32_t>(uint_le(4)))); break;
      case 'K': push_new(scalar(K::Int, u8())); break;
      case 'M': push_new(scalar(K::Int, static_cast<std::int64_t>(uint_le(2)))); break;
      case 0x8a:                                       // LONG1
      case 0x8b: {                                     // LONG4
        const std::uint64_t n = op == 0x8a ? u8() : uint_le(4);
        if (n > 8) fail("integer wider than 64 bits");
        const auto b = bytes(n);
        std::uint64_t v = 0;
        for (std::size_t k = 0; k < n; ++k) v |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(b[k])) << (8 * k);
        if (n > 0 && n < 8 && (static_cast<std::uint8_t>(b[n - 1]) & 0x80U) != 0) v |= ~0ULL << (8 * n);  // sign-extend
        push_new(scalar(K::Int, static_cast<std::int64_t>(v)));
        break;
      }
      case 'G': {                                      // BINFLOAT, big-endian
        std::uint64_t v = 0;
        for (int k = 0; k < 8; ++k) v = (v << 8U) | u8();
        PyObject o;
        o.kind = K::Float;
        o.f = std::bit_cast<double>(v);
        push_new(std::move(o));
        break;
      }
      case 'X': push_new(text(K::Str, bytes(uint_le(4)))); break;    // BINUNICODE
      case 0x8c: push_new(text(K::Str, bytes(u8()))); break;          // SHORT_BINUNICODE
      case 0x8d: push_new(text(K::Str, bytes(uint_le(8)))); break;    // BINUNICODE8
      case 'T': push_new(text(K::Str, bytes(uint_le(4)))); break;    // BINSTRING
      case 'U': push_new(text(K::Str, bytes(u8()))); break;          // SHORT_BINSTRING
      case 'B': push_new(text(K::Bytes, bytes(uint_le(4)))); break;  // BINBYTES
      case 'C': push_new(text(K::Bytes, bytes(u8()))); break;        // SHORT_BINBYTES
      case ')': push_new(tuple_of({})); break;                       // EMPTY_TUPLE
      case 't': push_new(tuple_of(pop_to_mark())); break;            // TUPLE
      case 0x85: {                                                   // TUPLE1
        const auto a = pop();
        push_new(tuple_of({a}));
        break;
      }
      case 0x86: {                                                   // TUPLE2
        const auto b = pop();
        const auto a = pop();
        push_new(tuple_of({a, b}));
        break;
      }
      case 0x87: {                                                   // TUPLE3
        const auto c = pop();
        const auto b = pop();
        const auto a = pop();
        push_new(tuple_of({a, b, c}));
        break;
      }
      case ']': push_new(scalar(K::List, 0)); break;                  // EMPTY_LIST
      case '}': push_new(scalar(K::Dict, 0)); break;                  // EMPTY_DICT
      case 'a': {                                                    // APPEND
        const auto v = pop();
        auto& l = objects_[top()];
        if (l.kind != K::List) fail("APPEND to a non-list");
        l.items.push_back(v);
        break;
      }
      case 'e': {                                                    // APPENDS
        auto items = pop_to_mark();
        auto& l = objects_[top()];
        if (l.kind != K::List) fail("APPENDS to a non-list");
        l.items.insert(l.items.end(), items.begin(), items.end());
        break;
      }
      case 's': {                                                    // SETITEM
        const auto v = pop();
        const auto k = pop();
        auto& d = objects_[top()];
        if (d.kind != K::Dict) fail("SETITEM on a non-dict");
        d.items.push_back(k);
        d.items.push_back(v);
        break;
      }
      case 'u': {                                                    // SETITEMS
        auto items = pop_to_mark();
        if (items.size() % 2 != 0) fail("SETITEMS with an odd number of items");
        auto& d = objects_[top()];
        if (d.kind != K::Dict) fail("SETITEMS on a non-dict");
        d.items.insert(d.items.end(), items.begin(), items.end());
        break;
      }
      case 'q': memo_put(u8(), top()); break;                        // BINPUT
      case 'r': memo_put(uint_le(4), top()); break;                  // LONG_BINPUT
      case 0x94: memo_put(memo_.size(), top()); break;               // MEMOIZE
      case 'h':                                                      // BINGET
      case 'j': {                                                    // LONG_BINGET
        const std::uint64_t slot = op == 'h' ? u8() : uint_le(4);
        if (slot >= memo_.size() || memo_[static_cast<std::size_t>(slot)] == kEmpty) fail("memo slot not set");
        stack_.push_back(memo_[static_cast<std::size_t>(slot)]);
        break;
      }
      case 'c': {                                                    // GLOBAL
        const std::string module = line();
        const std::string name = line();
        stack_.push_back(global(module, name));
        break;
      }
      case 0x93: {                                                   // STACK_GLOBAL
        const auto n = pop();
        const auto m = pop();
        if (objects_[n].kind != K::Str || objects_[m].kind != K::Str) fail("STACK_GLOBAL needs strings");
        stack_.push_back(global(objects_[m].s, objects_[n].s));
        break;
      }
      case 'Q': {                                                    // BINPERSID
        const auto pid = pop();
        stack_.push_back(persistent_load(pid));
        break;
      }
      case 'R': {                                                    // REDUCE
        const auto args = pop();
        const auto callable = pop();
        stack_.push_back(reduce(callable, args));
        break;
      }
      case 'b': {                                                    // BUILD: state of tensors/dicts is ignored
        pop();
        const auto k = objects_[top()].kind;
        if (k != K::Tensor && k != K::Dict) fail("BUILD on an object that is not a tensor or dict");
        break;
      }
      case '0': pop(); break;                                        // POP
      case '1': pop_to_mark(); break;                                // POP_MARK
      case '2': stack_.push_back(top()); break;                      // DUP
      default: {
        char buf[8];
        std::snprintf(buf, sizeof buf, "0x%02x", op);
        fail(std::string("opcode ") + buf + " is not supported (refused)");
      }
    }
    if (stack_.size() > kMaxObjects) fail("stack too deep");
  }
}

}  // namespace aitdb::ingest
