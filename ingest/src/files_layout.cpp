// Any directory of tensor files, or one tensor file: each tensor is keyed by its path.
#include "aitdb/ingest/layout.h"

namespace aitdb::ingest {
namespace {

class FilesLayout : public DumpLayout {
 public:
  [[nodiscard]] Classified classify(const std::vector<std::string>& rel) const override {
    Classified out;
    const std::string& file = rel.back();
    if (is_tensor_file_name(file)) {
      out.role = FileRole::Tensor;
      std::string key;
      for (const auto& c : rel) key += (key.empty() ? "" : "/") + c;
      const auto dot = key.rfind('.');
      const auto slash = key.rfind('/');
      if (dot != std::string::npos && (slash == std::string::npos || dot > slash)) key.resize(dot);
      out.place.op_path = key;
    } else {
      out.role = is_aux_file_name(file) ? FileRole::Aux : FileRole::Other;
    }
    return out;
  }
};

}  // namespace

std::unique_ptr<DumpLayout> make_files_layout() {
  return std::make_unique<FilesLayout>();
}

}  // namespace aitdb::ingest
