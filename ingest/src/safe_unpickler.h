#pragma once
// A pickle interpreter that knows only what torch.save needs to describe tensors: containers,
// scalars, storages and the few rebuild functions on an allow-list. It never imports or calls
// anything; any other global is refused when it is named, before it could be used.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "aitdb/schema/dtype.h"

namespace aitdb::ingest {

struct PyObject {
  enum class Kind { None, Bool, Int, Float, Str, Bytes, Tuple, List, Dict, Global, Storage, Tensor, Mark };
  Kind kind = Kind::None;
  std::int64_t i = 0;                 // Int / Bool; Storage: element count from the persistent id
  double f = 0;                       // Float
  std::string s;                      // Str / Bytes; Global: module; Storage: key
  std::string s2;                     // Global: name; Storage: location
  std::vector<std::uint32_t> items;   // Tuple / List; Dict: key, value interleaved
  DType dtype = DType::UInt8;         // Storage
  std::uint32_t storage = 0;          // Tensor: index of its Storage object
  std::int64_t offset = 0;            // Tensor: storage offset in elements
  std::vector<std::int64_t> size;     // Tensor
  std::vector<std::int64_t> stride;   // Tensor
};

class SafeUnpickler {
 public:
  // `file` names the source in errors.
  SafeUnpickler(std::string_view pickle, std::string file);
  // Runs to STOP; returns the index of the result object.
  std::uint32_t run();
  [[nodiscard]] const PyObject& at(std::uint32_t idx) const { return objects_.at(idx); }

 private:
  [[noreturn]] void fail(const std::string& reason) const;
  std::uint32_t make(PyObject o);
  std::uint32_t pop();
  std::uint32_t top() const;
  std::vector<std::uint32_t> pop_to_mark();
  std::uint8_t u8();
  std::uint64_t uint_le(int n);
  std::string_view bytes(std::uint64_t n);
  std::string line();
  std::uint32_t global(const std::string& module, const std::string& name);
  std::uint32_t reduce(std::uint32_t callable, std::uint32_t args);
  std::uint32_t persistent_load(std::uint32_t pid);
  std::uint32_t rebuild_tensor(const std::vector<std::uint32_t>& args);
  std::int64_t as_int(std::uint32_t idx, const char* what) const;
  std::vector<std::int64_t> as_int_tuple(std::uint32_t idx, const char* what) const;
  void memo_put(std::uint64_t slot, std::uint32_t obj);

  std::string_view p_;
  std::size_t pos_ = 0;
  std::string file_;
  std::vector<PyObject> objects_;
  std::vector<std::uint32_t> stack_;
  std::vector<std::size_t> marks_;
  std::vector<std::uint32_t> memo_;  // slot -> object; UINT32_MAX = empty
};

}  // namespace aitdb::ingest
