// The probe's side files of an ATB run, parsed once the op graph exists (docs/formats.md,
// "Operation and kernel io CSV", "cpu_profiling"): rows keyed to the op they describe and to the
// stored tensors their paths name. Bad lines are reported as 'FILE:LINE' errors; the rest is kept.
#include <string_view>

#include "aitdb/schema/errors.h"
#include "cpu_profiling.h"
#include "op_graph_builder.h"
#include "op_io_csv.h"

namespace aitdb::ingest {
namespace {

std::vector<std::string_view> components(std::string_view path) {
  std::vector<std::string_view> out;
  for (std::size_t start = 0; start <= path.size();) {
    const auto slash = path.find('/', start);
    const auto end = slash == std::string_view::npos ? path.size() : slash;
    if (end > start) out.push_back(path.substr(start, end - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

// '{dir}/{PID}/{prefix}{n}{ext}' at the end of a side file's path: the pid and n it names.
struct SideFileName {
  std::optional<std::int64_t> pid;
  std::optional<std::int64_t> execute_count;
};
SideFileName side_file_name(std::string_view rel_path, std::string_view prefix) {
  const auto c = components(rel_path);
  SideFileName out;
  if (c.size() < 2) return out;
  out.pid = parse_cell_int(c[c.size() - 2]);
  std::string_view file = c.back();
  const auto dot = file.rfind('.');
  if (file.starts_with(prefix) && dot != std::string_view::npos && dot > prefix.size()) {
    out.execute_count = parse_cell_int(file.substr(prefix.size(), dot - prefix.size()));
  }
  return out;
}

// What a dumped tensor path names: '.../tensors/{rank}/{token}/{id}_{Name}/.../{before|after}/
// {in|out}tensor{i}[_{name}].bin' (absolute on the dumping machine; only the part after
// 'tensors/' is ours to read).
struct TensorPathKey {
  OpNodeKey node;
  std::string phase;
  std::string io;
  std::int64_t index = 0;
};
std::optional<TensorPathKey> tensor_path_key(std::string_view path) {
  std::size_t at = std::string_view::npos;
  for (std::size_t p = path.find("tensors/"); p != std::string_view::npos; p = path.find("tensors/", p + 1)) {
    if (p == 0 || path[p - 1] == '/') at = p;
  }
  if (at == std::string_view::npos) return std::nullopt;
  const auto c = components(path.substr(at + 8));
  if (c.size() < 5) return std::nullopt;
  TensorPathKey k;
  k.node.rank_key = std::string(c[0]);
  k.node.folder = std::string(c[1]);
  for (std::size_t i = 2; i + 2 < c.size(); ++i) {
    const auto us = c[i].find('_');
    if (us == std::string_view::npos || !parse_cell_int(c[i].substr(0, us))) return std::nullopt;
    k.node.id_path += (i == 2 ? "" : "_") + std::string(c[i].substr(0, us));
  }
  k.phase = std::string(c[c.size() - 2]);
  if (k.phase != "before" && k.phase != "after") return std::nullopt;
  std::string_view file = c.back();
  for (const auto& [prefix, io] :
       {std::pair{"intensor", "in"}, {"outtensor", "out"}, {"inTensor", "in"}, {"outTensor", "out"}}) {
    if (!file.starts_with(prefix)) continue;
    file.remove_prefix(std::string_view(prefix).size());
    const auto end = file.find_first_not_of("0123456789");
    const auto index = parse_cell_int(file.substr(0, end));
    if (!index) return std::nullopt;
    k.io = io;
    k.index = *index;
    return k;
  }
  return std::nullopt;
}

class SideFileIngest {
 public:
  SideFileIngest(IngestTransaction& tx, OpGraphReport& rep) : tx_(tx), rep_(rep) {}

  void op_io(std::int64_t file_id, const std::string& rel_path, const std::string& content, const std::string& kind) {
    const auto name = side_file_name(rel_path, kind == "operation" ? "operation_tensors_" : "kernel_tensors_");
    OpIoCsv csv = read_op_io_csv(content, rel_path, kind);
    report(rel_path, csv.errors);
    for (auto& r : csv.rows) {
      r.pid = name.pid;
      r.execute_count = name.execute_count;
      std::optional<OpNodeKey> dir;  // the op directory the row's tensor paths name
      for (auto& t : r.tensors) {
        if (!t.file_path) continue;
        if (auto key = tensor_path_key(*t.file_path)) {
          t.node = key->node;
          t.phase = key->phase;
          t.file_io = key->io;
          t.file_index = key->index;
          if (!dir) dir = key->node;
        }
      }
      if (kind == "operation" && r.id_path) {
        if (dir && dir->id_path != *r.id_path) {
          rep_.errors.emplace_back(rel_path + ":" + std::to_string(r.line),
                                   "OpName " + r.op_name + " names id path " + *r.id_path +
                                       ", its tensor paths the op directory " + dir->id_path);
        }
        OpNodeKey key;
        if (dir) {
          key.rank_key = dir->rank_key;
          key.folder = dir->folder;
        } else if (name.pid && name.execute_count) {
          key.pid = name.pid;
          key.folder = std::to_string(*name.execute_count);
        }
        key.id_path = *r.id_path;
        if (key.rank_key || key.pid) r.node = std::move(key);
      } else {
        r.node = dir;  // kernel rows: the op whose directory their paths name
        if (dir && !r.id_path) r.id_path = dir->id_path;
      }
    }
    unresolved_ += tx_.add_op_io_rows(file_id, csv.rows);
  }

  void cpu_profiling(std::int64_t file_id, const std::string& rel_path, const std::string& content) {
    const auto name = side_file_name(rel_path, "operation_statistic_");
    CpuProfiling stats =
        rel_path.ends_with(".csv") ? read_cpu_profiling_csv(content, rel_path) : read_cpu_profiling_txt(content);
    report(rel_path, stats.errors);
    for (auto& r : stats.records) {
      r.pid = name.pid;
      r.execute_count = name.execute_count;
      if (r.id_path && name.pid && name.execute_count) {
        r.node = OpNodeKey{std::nullopt, name.pid, std::to_string(*name.execute_count), *r.id_path};
      }
    }
    tx_.add_cpu_profiling(file_id, stats.records);
  }

  void finish() {
    if (unresolved_ > 0) {
      rep_.notes.push_back(std::to_string(unresolved_) +
                           " tensor paths in operation/kernel io CSVs name no stored tensor (dumped without "
                           "tensor data, or outside the ingested scope)");
    }
  }

 private:
  void report(const std::string& rel_path, const std::vector<LineError>& errors) {
    for (const auto& e : errors) rep_.errors.emplace_back(rel_path + ":" + std::to_string(e.line), e.reason);
  }

  IngestTransaction& tx_;
  OpGraphReport& rep_;
  std::int64_t unresolved_ = 0;
};

}  // namespace

void add_probe_side_files(IngestTransaction& tx, OpGraphReport& rep) {
  SideFileIngest ingest(tx, rep);
  // Rows stream from the files table while the parsed rows go to other tables: one side file's
  // text in memory at a time.
  tx.run_sql(R"sql(SELECT id, rel_path, content FROM files
                   WHERE run_id = ?1 AND content IS NOT NULL AND (
                     rel_path GLOB '*operation_io_tensors/*/operation_tensors_*.csv' OR
                     rel_path GLOB '*kernel_io_tensors/*/kernel_tensors_*.csv' OR
                     rel_path GLOB '*cpu_profiling/*/operation_statistic_*.txt' OR
                     rel_path GLOB '*cpu_profiling/*/operation_statistic_*.csv')
                   ORDER BY id)sql",
             {tx.run_id()}, [&](const std::vector<SqlValue>& row) {
               const auto file_id = std::get<std::int64_t>(row[0]);
               const auto& rel_path = std::get<std::string>(row[1]);
               const auto* content = std::get_if<std::string>(&row[2]);
               if (content == nullptr) return;
               try {
                 if (rel_path.find("cpu_profiling/") != std::string::npos) {
                   ingest.cpu_profiling(file_id, rel_path, *content);
                 } else {
                   ingest.op_io(file_id, rel_path, *content,
                                rel_path.find("kernel_io_tensors/") != std::string::npos ? "kernel" : "operation");
                 }
               } catch (const FormatError& e) {
                 rep.errors.emplace_back(rel_path, e.reason());
               }
             });
  ingest.finish();
}

}  // namespace aitdb::ingest
