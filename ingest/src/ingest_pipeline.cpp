#include <chrono>
#include <cstdio>
#include <condition_variable>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "aitdb/ingest/discover.h"
#include "aitdb/ingest/fx_dump.h"
#include "aitdb/ingest/ge_dump.h"
#include "aitdb/ingest/ingest.h"
#include "aitdb/ingest/layout.h"
#include "aitdb/ingest/readers.h"
#include "aitdb/schema/errors.h"
#include "atb_aliases.h"
#include "dump_walker.h"
#include "file_io.h"
#include "metadata_labels.h"
#include "op_graph/op_graph_builder.h"
#include "source_signature.h"

namespace aitdb::ingest {
namespace fs = std::filesystem;
namespace {

constexpr std::uint64_t kMaxAuxText = 16ULL << 20U;

struct TensorOut {
  TensorRow row;
  std::optional<EncodedBlob> blob;
};

struct WorkResult {
  FileRow file;
  std::string abs_path;
  std::optional<OpNodeRow> node;
  std::vector<TensorOut> tensors;
  std::vector<LabelRow> labels;
  std::optional<std::string> error;
  std::uint64_t budget = 0;  // bytes charged to the in-flight budget
};

std::string hex64(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::vector<std::string> split_rel(const std::vector<std::string>& prefix, const std::string& rel) {
  std::vector<std::string> out(prefix);
  std::size_t start = 0;
  while (start <= rel.size()) {
    const auto slash = rel.find('/', start);
    out.push_back(rel.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return out;
}

std::string read_text(const fs::path& path, const ReadLimits& limits) {
  ReadLimits l = limits;
  l.max_file_size = std::min(limits.max_file_size, kMaxAuxText);
  const InputFile f(path, l);
  return f.read_string(0, static_cast<std::size_t>(f.size()));
}

// Files of one op directory arrive together in walk order, so remembering the last node spares
// most of the upserts; a node met again later is found by its unique key.
class OpNodeCache {
 public:
  std::int64_t id_of(IngestTransaction& tx, const OpNodeRow& n) {
    if (last_id_ && !n.param && n.rank_key == last_.rank_key && n.folder == last_.folder && n.id_path == last_.id_path) {
      return *last_id_;
    }
    last_id_ = tx.add_op_node(n);
    last_ = n;
    return *last_id_;
  }

 private:
  OpNodeRow last_;
  std::optional<std::int64_t> last_id_;
};

// Everything done for one file off the writer thread.
class FileProcessor {
 public:
  FileProcessor(const DetectedDump& dump, const IngestOptions& opt) : dump_(dump), opt_(opt) {}

  WorkResult process(const WalkItem& item) const {
    WorkResult r;
    r.abs_path = item.path.string();
    r.file = FileRow{item.rel, static_cast<std::int64_t>(item.size), item.mtime_ns, "other", "ok", std::nullopt};
    if (item.error) {
      r.error = *item.error;
      r.file.status = "error";
      return r;
    }
    const Classified c = dump_.layout->classify(split_rel(dump_.implicit_prefix, item.rel));
    try {
      switch (c.role) {
        case FileRole::Tensor: read_tensors(item, c, r); break;
        case FileRole::OpParam: {
          r.file.kind = "aux";
          const std::string text = read_text(item.path, opt_.limits);
          if (!nlohmann::json::accept(text)) throw FormatError(item.path.string(), "op_param.json is not valid JSON");
          r.file.content = text;
          r.node = *c.node;
          r.node->param = text;
          break;
        }
        case FileRole::Aux:
          r.file.kind = "aux";
          if (item.size <= kMaxAuxText) r.file.content = read_text(item.path, opt_.limits);
          if (item.path.filename() == "metadata.json" && r.file.content) {
            // The side (golden_tensor/, acl_tensor/) is a folder name, and discovery roots
            // the run at that folder: judge it with the root's own name in front.
            const std::string from_root_folder = (dump_.root.filename() / item.rel).generic_string();
            r.labels = read_metadata_labels(item.path.string(), from_root_folder, *r.file.content);
          }
          break;
        case FileRole::Other: break;
      }
    } catch (const Error& e) {
      r.error = e.reason();
      r.file.status = "error";
      r.tensors.clear();
    } catch (const std::bad_alloc&) {
      r.error = "out of memory while reading";
      r.file.status = "error";
      r.tensors.clear();
    } catch (const std::exception& e) {
      r.error = e.what();
      r.file.status = "error";
      r.tensors.clear();
    }
    return r;
  }

 private:
  void read_tensors(const WalkItem& item, const Classified& c, WorkResult& r) const {
    r.file.kind = "tensor";
    r.node = c.node;
    if (!r.node) {
      // A tensor file outside the tree's structure (or a loose file) is a node of its own.
      const std::string key = c.place.op_path.value_or(item.rel);
      r.node = OpNodeRow::of("file", c.place.rank_key.value_or(""), "", key);
    }
    // GE dump files have no extension and hold every input and output of one op.
    if (dump_.flavour == "ge_tree") return read_ge_file(item, c, r);
    // FX dumps save non-tensor arguments (None, a dtype) as string arrays: arguments, not errors.
    if (dump_.flavour == "fx_tree" && item.rel.ends_with(".npy")) {
      auto v = read_fx_dump_file(item.path, opt_.limits);
      if (auto* arg = std::get_if<FxNonTensorArgument>(&v)) {
        r.file.kind = "aux";
        r.file.content = arg->text;
        return;
      }
      add_tensor(std::move(std::get<DecodedTensor>(v)), c.place, "npy", r);
      return;
    }
    TensorFile file = read_tensor_file(item.path, opt_.limits);
    for (auto& d : file.tensors) add_tensor(std::move(d), c.place, std::string(format_name(file.format)), r);
  }

  void read_ge_file(const WalkItem& item, const Classified& c, WorkResult& r) const {
    GeDump g = read_ge_dump(item.path, opt_.limits);
    std::string refused;
    for (auto* list : {&g.inputs, &g.outputs}) {
      for (auto& t : *list) {
        if (t.tensor) {
          add_tensor(std::move(*t.tensor), ge_tensor_place(c.place, t), "ge_dump", r);
        } else {
          refused += std::string(refused.empty() ? "" : "; ") + (t.is_input ? "input." : "output.") +
                     std::to_string(t.index) + " not stored: " + t.refusal;
        }
      }
    }
    if (!refused.empty()) {
      r.error = refused;
      r.file.status = "error";
    }
  }

  void add_tensor(DecodedTensor&& d, const TensorPlace& p, const std::string& source_kind, WorkResult& r) const {
    TensorOut out;
    TensorRow& t = out.row;
    t.source_kind = d.md5 ? "md5" : source_kind;
    t.rank_key = p.rank_key;
    t.device_id = p.device_id;
    t.pid = p.pid;
    t.token = p.token;
    t.op_path = p.op_path;
    t.op_names = p.op_names;
    t.op_type = p.op_type;
    t.phase = p.phase;
    t.io = p.io;
    t.io_index = p.io_index;
    t.io_subindex = p.io_subindex;
    t.io_name = p.io_name;
    if (!d.name.empty()) t.io_name = d.name;
    if (!d.flags.empty()) t.flags = d.flags;
    t.md5 = d.md5;
    t.alias_of = d.alias_of;
    if (d.md5) r.file.kind = "md5";
    if (d.alias_of) r.file.kind = "alias";
    if (d.dtype) {
      t.dtype = d.dtype;
      t.format = d.format;
      t.shape = d.shape;
      t.numel = static_cast<std::int64_t>(*checked_numel(d.shape));
      t.nbytes = static_cast<std::int64_t>(*checked_nbytes(d.shape, *d.dtype));
    }
    if (d.has_data) {
      t.stats = compute_stats(*d.dtype, d.data.data(), static_cast<std::size_t>(*t.numel));
      t.has_stats = true;
      t.stats_source = "computed";
      if (!opt_.stats_only) {
        out.blob = encode_blob(d.data, dtype_size(*d.dtype), opt_.zstd_level);
        t.blob_key = out.blob->key;
      }
      recycle_buffer(std::move(d.data));  // this thread reads the next tensor into it
    } else if (d.file_stats) {
      r.file.kind = "stats";
      t.stats.min = d.file_stats->min;
      t.stats.max = d.file_stats->max;
      t.stats.mean = d.file_stats->mean;
      t.stats.l2norm = d.file_stats->l2norm;
      t.has_stats = true;
      t.stats_source = "file";
    }
    r.tensors.push_back(std::move(out));
  }

  const DetectedDump& dump_;
  const IngestOptions& opt_;
};

// Shared state between the dispenser (walker + in-flight budget), the workers and the writer.
class Pipeline {
 public:
  Pipeline(DumpWalker& walker, const FileProcessor& proc, std::uint64_t budget)
      : walker_(walker), proc_(proc), budget_cap_(budget) {}

  void worker() {
    while (true) {
      std::optional<WalkItem> item;
      std::uint64_t seq = 0;
      std::uint64_t charge = 0;
      {
        std::unique_lock lk(m_);
        // One dispenser at a time, and it waits for budget while holding the turn: items get
        // budget in sequence order, so the writer (which frees budget in that order) never waits
        // on an item that cannot start.
        cv_.wait(lk, [&] { return !dispensing_ || cancelled_; });
        if (cancelled_ || walk_done_) return;
        dispensing_ = true;
        item = walker_.next();
        if (!item) {
          walk_done_ = true;
          dispensing_ = false;
          cv_.notify_all();
          return;
        }
        seq = next_seq_++;
        charge = std::max<std::uint64_t>(item->size, 1);
        cv_.wait(lk, [&] { return cancelled_ || in_flight_ == 0 || in_flight_ + charge <= budget_cap_; });
        in_flight_ += charge;
        dispensing_ = false;
        cv_.notify_all();
        if (cancelled_) return;
      }
      WorkResult r = proc_.process(*item);
      r.budget = charge;
      {
        std::lock_guard lk(m_);
        done_.emplace(seq, std::move(r));
      }
      cv_.notify_all();
    }
  }

  // Writer side: the next result in walk order, or nullopt when everything was written.
  std::optional<WorkResult> next_result() {
    std::unique_lock lk(m_);
    cv_.wait(lk, [&] { return done_.count(write_seq_) != 0 || (walk_done_ && write_seq_ == next_seq_); });
    const auto it = done_.find(write_seq_);
    if (it == done_.end()) return std::nullopt;
    WorkResult r = std::move(it->second);
    done_.erase(it);
    ++write_seq_;
    return r;
  }

  void release(std::uint64_t bytes) {
    {
      std::lock_guard lk(m_);
      in_flight_ -= bytes;
    }
    cv_.notify_all();
  }

  void cancel() {
    {
      std::lock_guard lk(m_);
      cancelled_ = true;
    }
    cv_.notify_all();
  }

 private:
  DumpWalker& walker_;
  const FileProcessor& proc_;
  const std::uint64_t budget_cap_;
  std::mutex m_;
  std::condition_variable cv_;
  bool dispensing_ = false;
  bool walk_done_ = false;
  bool cancelled_ = false;
  std::uint64_t next_seq_ = 0;
  std::uint64_t write_seq_ = 0;
  std::uint64_t in_flight_ = 0;
  std::map<std::uint64_t, WorkResult> done_;
};

// Why an existing run of the same name and source must be ingested again, or nullopt.
std::optional<std::string> stale_reason(const Store& store, const RunInfo& run, const DetectedDump& dump) {
  const auto stored = stored_signature(run.options);
  if (!stored) return "stored by an older aitdb (no source signature)";
  if (run.tensor_count > 0 && store.op_node_count(run.id) == 0) return "stored by an older aitdb (no op graph)";
  const SourceSignature now = current_signature(dump);
  if (now == *stored) return std::nullopt;
  return "source changed since it was ingested: " + stored->change_since(now);
}

// "ids 1, 3" of comparisons, for messages.
std::string id_list(const std::vector<std::int64_t>& ids) {
  std::string out = ids.size() == 1 ? "id" : "ids";
  for (std::size_t i = 0; i < ids.size(); ++i) out += (i == 0 ? " " : ", ") + std::to_string(ids[i]);
  return out;
}

std::string kept_of(const std::string& options_json) {
  const auto j = nlohmann::json::parse(options_json, nullptr, false);
  return j.is_object() && j.contains("kept") && j["kept"].is_string() ? j["kept"].get<std::string>() : "";
}

}  // namespace

IngestReport ingest_dump(Store& store, const DetectedDump& dump, const std::string& run_name, const IngestOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  IngestReport rep;
  rep.run_name = run_name;
  rep.flavour = dump.flavour;
  rep.source_root = (dump.single_file ? *dump.single_file : dump.root).string();
  const std::string kept = dump.scope.kept.value_or("");
  bool replace = opt.replace;
  if (auto existing = store.find_run(rep.run_name)) {
    rep.same_source = existing->source_root == rep.source_root && kept_of(existing->options) == kept;
    if (!replace) {
      rep.run_id = existing->id;
      rep.unchanged = true;
      if (!rep.same_source) return rep;
      rep.refreshed = stale_reason(store, *existing, dump);
      if (!rep.refreshed) return rep;
      rep.unchanged = false;
      replace = true;
    }
    rep.dropped_comparisons = store.comparison_ids_of_run(existing->id);
    if (!rep.dropped_comparisons.empty() && !opt.drop_comparisons) {
      throw UsageError((rep.refreshed ? "run '" + rep.run_name + "': " + *rep.refreshed + "; re-ingesting it"
                                      : "replacing run '" + rep.run_name + "'") +
                       " would delete the " + std::to_string(rep.dropped_comparisons.size()) +
                       " comparison(s) that reference it (" + id_list(rep.dropped_comparisons) +
                       "): add --drop-comparisons to delete them, or ingest under another name with --run NAME");
    }
  }
  nlohmann::json options = {{"jobs", opt.jobs},
                            {"stats_only", opt.stats_only},
                            {"strict", opt.strict},
                            {"zstd_level", opt.zstd_level},
                            {"max_file_size", opt.limits.max_file_size}};
  if (dump.scope.kept) {
    options["kept"] = *dump.scope.kept;
    options["kept_within"] = dump.scope.kept_within;
  }
  if (!dump.scope.excluded.empty()) options["excluded"] = dump.scope.excluded;
  IngestTransaction tx(store, RunSpec{rep.run_name, dump.flavour, rep.source_root, options.dump()}, replace);
  rep.run_id = tx.run_id();

  DumpWalker::SkipDir skip;
  if (!dump.scope.empty()) skip = [&scope = dump.scope](const std::string& rel) { return scope.skips(rel); };
  DumpWalker walker(dump.root, dump.single_file, skip);
  const FileProcessor proc(dump, opt);
  Pipeline pipe(walker, proc, opt.inflight_bytes);
  const unsigned jobs = opt.jobs != 0 ? opt.jobs : std::max(1U, std::thread::hardware_concurrency());
  std::vector<std::jthread> workers;
  // Cancels and joins the workers on every exit path (declared after them: runs first).
  struct Stopper {
    Pipeline& p;
    std::vector<std::jthread>& w;
    ~Stopper() {
      p.cancel();
      w.clear();
    }
  } stopper{pipe, workers};
  for (unsigned i = 0; i < jobs; ++i) workers.emplace_back([&pipe] { pipe.worker(); });

  IngestProgress prog;
  std::uint64_t bytes_done = 0;
  OpNodeCache nodes;
  SourceSignature signature;  // of what was read, so a change during the ingest shows next time
  while (auto r = pipe.next_result()) {
    signature.add(r->file.rel_path, static_cast<std::uint64_t>(std::max<std::int64_t>(r->file.size, 0)), r->file.mtime_ns);
    if (r->error && opt.strict) {
      throw FormatError(r->abs_path, *r->error + " (--strict: nothing was stored)");
    }
    const std::int64_t file_id = tx.add_file(r->file);
    std::optional<std::int64_t> node_id;
    if (r->node) node_id = nodes.id_of(tx, *r->node);
    for (const auto& l : r->labels) tx.add_label(file_id, l);
    for (auto& t : r->tensors) {
      if (t.blob) {
        if (tx.put_blob(*t.blob)) {
          ++rep.new_blobs;
          rep.stored_bytes += t.blob->stored_size();
        } else {
          ++rep.dedup_blobs;
        }
        rep.raw_bytes += t.blob->raw_size;
      }
      t.row.file_id = file_id;
      t.row.op_node_id = node_id;
      tx.add_tensor(t.row);
      ++rep.tensors;
    }
    if (r->error) {
      tx.add_error(r->file.rel_path, *r->error);
      ++rep.errors;
      if (opt.on_error) opt.on_error(r->abs_path, *r->error);
    }
    ++rep.files;
    bytes_done += r->file.size > 0 ? static_cast<std::uint64_t>(r->file.size) : 0;
    pipe.release(r->budget);
    if (opt.on_progress) {
      prog.files = rep.files;
      prog.tensors = rep.tensors;
      prog.bytes = bytes_done;
      prog.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      opt.on_progress(prog);
    }
  }
  for (const auto& [rel, alias] : resolve_atb_aliases(tx)) {
    const std::string reason = "alias data=" + alias + " names no tensor of this rank and token";
    if (opt.strict) throw FormatError((dump.root / rel).string(), reason + " (--strict: nothing was stored)");
    tx.add_error(rel, reason);
    ++rep.errors;
    if (opt.on_error) opt.on_error((dump.root / rel).string(), reason);
  }
  const OpGraphReport graph = build_op_graph(tx);
  for (const auto& [rel, reason] : graph.errors) {
    if (opt.strict) throw FormatError((dump.root / rel).string(), reason + " (--strict: nothing was stored)");
    tx.add_error(rel, reason);
    ++rep.errors;
    if (opt.on_error) opt.on_error((dump.root / rel).string(), reason);
  }
  rep.notes = graph.notes;
  options[kSignatureKey] = {{"entries", signature.entries}, {"bytes", signature.bytes}, {"digest", hex64(signature.digest)}};
  tx.set_run_options(options.dump());
  tx.commit();
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rep;
}

IngestReport ingest_path(Store& store, const fs::path& input, const IngestOptions& opt) {
  Discovery found = discover_dumps(input);
  if (found.roots.size() != 1) {
    std::string list;
    for (const auto& r : found.roots) list += (list.empty() ? "" : ", ") + r.name + " (" + r.flavour + ")";
    throw FormatError(input.string(), "holds " + std::to_string(found.roots.size()) + " dumps: " + list +
                                          "; give one of them, or ingest the folder with `aitdb ingest`");
  }
  const DetectedDump& dump = found.roots.front();
  return ingest_dump(store, dump, opt.run_name.value_or(dump.name), opt);
}

IngestAllReport ingest_all(Store& store, const fs::path& input, const IngestOptions& opt) {
  Discovery found = discover_dumps(input);
  IngestAllReport out;
  out.notes = std::move(found.notes);
  for (const auto& dump : found.roots) {
    std::string name = dump.name;
    if (opt.run_name) name = found.roots.size() == 1 ? *opt.run_name : *opt.run_name + "/" + dump.name;
    out.runs.push_back(ingest_dump(store, dump, name, opt));
    if (opt.on_run) opt.on_run(out.runs.back());
  }
  return out;
}

}  // namespace aitdb::ingest
