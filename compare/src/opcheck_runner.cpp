#include "aitdb/compare/opcheck_runner.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "aitdb/schema/errors.h"

namespace aitdb::compare {
namespace {

using Clock = std::chrono::steady_clock;

// One dumped tensor of an op, as the runner needs it to load the bytes.
struct DumpedTensor {
  std::int64_t tensor_id = 0;
  std::string phase;  // before | after
  std::string io;     // in | out
  std::int64_t index = 0;
  std::optional<DType> dtype;
  std::vector<std::int64_t> shape;
  std::optional<BlobKey> blob_key;
  std::string rel_path;
};

// A leaf ATB op of the run with every tensor dumped for it.
struct OpTask {
  std::int64_t node_id = 0;
  std::string id_path;
  std::string type;  // what find_opcheck_kernel is asked for
  std::string param;
  std::string op_dir;  // the op's directory, source root included
  std::vector<DumpedTensor> tensors;
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// msit's -ids: the id itself and its descendants.
bool selected_by_ids(const std::string& id_path, const std::vector<std::string>& ids) {
  if (ids.empty()) return true;
  return std::any_of(ids.begin(), ids.end(), [&](const std::string& id) {
    return id_path == id || (id_path.size() > id.size() && id_path.compare(0, id.size(), id) == 0 && id_path[id.size()] == '_');
  });
}

bool selected_by_name(const std::string& type, const std::vector<std::string>& opnames) {
  if (opnames.empty()) return true;
  const std::string t = lower(type);
  return std::any_of(opnames.begin(), opnames.end(), [&](const std::string& n) { return t.find(lower(n)) != std::string::npos; });
}

std::string text_of(const SqlValue& v) {
  return std::holds_alternative<std::string>(v) ? std::get<std::string>(v) : std::string();
}

// The kernel's name for the node: the topology/directory type, else the quant -> float
// normalised type, else the directory name (the first that has a kernel wins).
std::string kernel_type(const std::vector<std::string>& candidates) {
  for (const auto& c : candidates) {
    if (!c.empty() && find_opcheck_kernel(c) != nullptr) return c;
  }
  for (const auto& c : candidates) {
    if (!c.empty()) return c;
  }
  return "";
}

// Leaf ATB ops of the run (ops without child ops), with their tensors, in execution order.
std::vector<OpTask> load_tasks(Store& store, const RunInfo& run, const OpcheckOptions& opt) {
  std::vector<OpTask> tasks;
  std::map<std::int64_t, std::size_t> by_node;
  store.execute(
      R"sql(SELECT n.id, n.id_path, coalesce(n.type, ''), coalesce(n.norm_type, ''), coalesce(n.name, ''), n.param,
                   t.id, coalesce(t.phase, ''), coalesce(t.io, ''), coalesce(t.io_index, 0), t.dtype,
                   coalesce(t.shape, '[]'), t.blob_key, coalesce(f.rel_path, '')
            FROM op_nodes n
            JOIN tensors t ON t.op_node_id = n.id
            LEFT JOIN files f ON f.id = t.file_id
            WHERE n.run_id = ?1 AND n.kind = 'op'
              AND NOT EXISTS (SELECT 1 FROM op_nodes c WHERE c.parent_id = n.id)
            ORDER BY n.rank_key, n.token, n.folder, n.exec_order, n.id, t.phase, t.io, t.io_index)sql",
      {SqlValue{run.id}}, [](const auto&) {},
      [&](const std::vector<SqlValue>& r) {
        const auto node_id = std::get<std::int64_t>(r[0]);
        auto it = by_node.find(node_id);
        if (it == by_node.end()) {
          OpTask t;
          t.node_id = node_id;
          t.id_path = text_of(r[1]);
          t.type = kernel_type({text_of(r[2]), text_of(r[3]), text_of(r[4])});
          t.param = text_of(r[5]);
          it = by_node.emplace(node_id, tasks.size()).first;
          tasks.push_back(std::move(t));
        }
        DumpedTensor d;
        d.tensor_id = std::get<std::int64_t>(r[6]);
        d.phase = text_of(r[7]);
        d.io = text_of(r[8]);
        d.index = std::get<std::int64_t>(r[9]);
        if (const auto name = text_of(r[10]); !name.empty()) d.dtype = dtype_from_name(name);
        d.shape = nlohmann::json::parse(text_of(r[11])).get<std::vector<std::int64_t>>();
        if (const auto* key = std::get_if<std::vector<std::uint8_t>>(&r[12])) d.blob_key = BlobKey::from_bytes(*key);
        d.rel_path = text_of(r[13]);
        OpTask& task = tasks[it->second];
        if (task.op_dir.empty() && !d.rel_path.empty()) {
          // {op dir}/{before|after}/{in|out}tensorK.bin
          task.op_dir = (std::filesystem::path(run.source_root) / d.rel_path).parent_path().parent_path().string();
        }
        task.tensors.push_back(std::move(d));
      });
  std::erase_if(tasks, [&](const OpTask& t) {
    return !selected_by_ids(t.id_path, opt.ids) || !selected_by_name(t.type, opt.opnames);
  });
  return tasks;
}

std::string precision_mode_name(PrecisionMode m) {
  switch (m) {
    case PrecisionMode::ForceFp16: return "force_fp16";
    case PrecisionMode::ForceFp32: return "force_fp32";
    case PrecisionMode::Keep: break;
  }
  return "keep";
}

// Loads and checks one op; its rows (one per compared output, or one for the whole op).
class OpChecker {
 public:
  OpChecker(const Store& reader, const RunInfo& run, const OpcheckOptions& opt) : reader_(reader), run_(run), opt_(opt) {}

  std::vector<OpcheckResultRow> check(const OpTask& task, double& load_s, double& kernel_s) {
    OpcheckResultRow base;
    base.run_id = run_.id;
    base.op_node_id = task.node_id;
    base.op_id = task.id_path;
    base.op_name = task.type;
    base.op_param = task.param.empty() ? "{}" : task.param;
    if (!task.op_dir.empty()) base.tensor_path = task.op_dir;
    base.precision_mode = precision_mode_name(opt_.precision_mode);
    const std::string what = run_.name + ":" + (task.op_dir.empty() ? task.id_path : task.op_dir);

    const OpcheckKernel kernel = find_opcheck_kernel(task.type);
    if (kernel == nullptr) {
      base.status = "not_supported";
      base.fail_reason = "not supported: aitdb has no CPU golden for " + (task.type.empty() ? "this op" : task.type);
      return {base};
    }
    try {
      const auto t0 = Clock::now();
      // Inputs as the op received them: before/ when it was dumped, else after/ (msit's rule).
      const bool have_before = std::any_of(task.tensors.begin(), task.tensors.end(),
                                           [](const DumpedTensor& d) { return d.phase == "before" && d.io == "in"; });
      std::vector<HostTensor> inputs = load_series(task, have_before ? "before" : "after", "in", what);
      std::vector<HostTensor> dumped;
      const auto inplace = opcheck_inplace_inputs(task.type);
      if (inplace.empty()) {
        dumped = load_series(task, "after", "out", what);
      } else {
        std::vector<HostTensor> after_inputs = load_series(task, "after", "in", what);
        for (const int k : inplace) {
          if (static_cast<std::size_t>(k) >= after_inputs.size()) {
            throw FormatError(what, "in-place input " + std::to_string(k) + " was not dumped after execution");
          }
          dumped.push_back(std::move(after_inputs[static_cast<std::size_t>(k)]));
        }
      }
      if (dumped.empty()) throw FormatError(what, "no output tensors were dumped after execution");
      for (auto& t : inputs) apply_precision_mode(opt_.precision_mode, t);
      for (auto& t : dumped) apply_precision_mode(opt_.precision_mode, t);
      const auto t1 = Clock::now();
      const nlohmann::json param = parse_param(task.param);
      std::vector<HostTensor> golden = kernel({.what = what, .param = param, .inputs = inputs});
      const CaseCheck verdict = check_outputs(what, dumped, golden, opt_.metrics);
      kernel_s += std::chrono::duration<double>(Clock::now() - t1).count();
      load_s += std::chrono::duration<double>(t1 - t0).count();
      give_back(inputs);
      give_back(dumped);
      give_back(golden);
      const bool counts_match = dumped.size() == golden.size();
      std::vector<OpcheckResultRow> rows;
      for (std::size_t i = 0; i < verdict.outputs.size(); ++i) {
        const OutputCheck& o = verdict.outputs[i];
        OpcheckResultRow row = base;
        row.out_tensor_id = static_cast<std::int64_t>(i);
        row.status = o.passed && counts_match ? "pass" : "failed";
        row.precision_standard = o.standard.text;
        row.rel_precision_rate = o.rel_pass_rate;
        row.max_rel_error = o.max_rel_error;
        row.abs_precision_rate = o.abs_pass_rate;
        row.max_abs_error = o.max_abs_error;
        row.cosine_similarity = o.cosine_similarity;
        row.kl_divergence = o.kl_divergence;
        // A count mismatch fails every row of the case; its reason is the case's.
        row.fail_reason = counts_match ? o.fail_reason : verdict.fail_reason;
        rows.push_back(std::move(row));
      }
      if (rows.empty()) {
        base.status = "failed";
        base.fail_reason = verdict.fail_reason;
        rows.push_back(base);
      }
      return rows;
    } catch (const Error& e) {
      // msit fails a case whose golden raises; the reason is the error's one line.
      base.status = "failed";
      base.fail_reason = e.reason();
      return {base};
    }
  }

 private:
  static nlohmann::json parse_param(const std::string& text) {
    if (text.empty()) return nlohmann::json::object();
    auto j = nlohmann::json::parse(text, nullptr, false);
    return j.is_object() ? j : nlohmann::json::object();  // msit: missing or invalid -> {}
  }

  // tensor 0.. of one phase and io, in index order; a gap is an error (positions matter).
  std::vector<HostTensor> load_series(const OpTask& task, const std::string& phase, const std::string& io,
                                      const std::string& what) {
    std::vector<HostTensor> out;
    for (const DumpedTensor& d : task.tensors) {
      if (d.phase != phase || d.io != io) continue;
      if (d.index != static_cast<std::int64_t>(out.size())) {
        throw FormatError(what, phase + "/" + io + "tensor" + std::to_string(out.size()) + " was not dumped");
      }
      const std::string name = run_.name + ":" + d.rel_path;
      if (!d.blob_key || !d.dtype) throw NotFoundError(name, "holds no tensor bytes (stats-only or placeholder)");
      reader_.read_blob_into(*d.blob_key, name, bytes_);
      out.push_back(host_tensor_from_bytes(name, *d.dtype, d.shape, {bytes_.data(), bytes_.size()},
                                           take_buffer(bytes_.size() / dtype_size(*d.dtype))));
    }
    return out;
  }

  // The smallest spare buffer that holds n floats without growing, else a new one. LLM weights are
  // hundreds of MB as floats; fresh buffers for every op cost more in page faults (on this VM,
  // ~half of a decoder layer's opcheck) than the copies themselves.
  std::vector<float> take_buffer(std::size_t n) {
    auto best = spare_.end();
    for (auto it = spare_.begin(); it != spare_.end(); ++it) {
      if (it->capacity() >= n && (best == spare_.end() || it->capacity() < best->capacity())) best = it;
    }
    if (best == spare_.end()) return {};
    std::vector<float> v = std::move(*best);
    spare_.erase(best);
    return v;
  }

  // Keeps the value buffers of an op's tensors for the next op. Bounded by count, so what a
  // worker keeps is a few of the largest tensors of one op, whatever the size of the dump.
  void give_back(std::vector<HostTensor>& tensors) {
    constexpr std::size_t kMaxSpare = 8;
    constexpr std::size_t kWorthKeeping = 1U << 16U;  // floats; small tensors come from the heap cheaply
    for (auto& t : tensors) {
      if (t.values.capacity() < kWorthKeeping) continue;
      spare_.push_back(std::move(t.values));
      if (spare_.size() > kMaxSpare) {
        // Drop the smallest: the large ones are the ones that are expensive to fault in again.
        const auto smallest = std::min_element(spare_.begin(), spare_.end(),
                                               [](const auto& a, const auto& b) { return a.capacity() < b.capacity(); });
        spare_.erase(smallest);
      }
    }
  }

  const Store& reader_;
  const RunInfo& run_;
  const OpcheckOptions& opt_;
  ByteBuffer bytes_;  // reused for every blob this checker reads
  std::vector<std::vector<float>> spare_;  // value buffers of earlier ops (take_buffer, give_back)
};

}  // namespace

OpcheckSummary run_opcheck(Store& store, const std::string& run_name, const OpcheckOptions& opt) {
  const auto t0 = Clock::now();
  const auto run = store.find_run(run_name);
  if (!run) throw NotFoundError(run_name, "no such run");
  const std::vector<OpTask> tasks = load_tasks(store, *run, opt);
  OpcheckSummary sum;
  sum.run_id = run->id;

  const unsigned hw = std::max(1U, std::thread::hardware_concurrency());
  const unsigned jobs = std::max(
      1U, std::min<unsigned>(opt.jobs != 0 ? opt.jobs : hw, static_cast<unsigned>(std::max<std::size_t>(tasks.size(), 1))));
  // Ops in parallel each get one GEMM thread; a single worker lets the GEMM use every core.
  set_opcheck_gemm_threads(jobs > 1 ? 1 : hw);

  std::vector<std::vector<OpcheckResultRow>> per_op(tasks.size());
  std::atomic<std::size_t> next{0};
  std::size_t done = 0;
  std::mutex mu;  // progress, timings and the first fatal error
  std::exception_ptr fatal;
  {
    std::vector<std::jthread> workers;
    for (unsigned w = 0; w < jobs; ++w) {
      workers.emplace_back([&] {
        try {
          const Store reader(store.path(), Store::Mode::ReadOnly);  // one connection per worker
          OpChecker checker(reader, *run, opt);
          double load_s = 0;
          double kernel_s = 0;
          for (std::size_t i = next++; i < tasks.size(); i = next++) {
            per_op[i] = checker.check(tasks[i], load_s, kernel_s);
            std::lock_guard lk(mu);
            ++done;
            if (opt.on_progress) opt.on_progress(done, tasks.size());
          }
          std::lock_guard lk(mu);
          sum.load_seconds += load_s;
          sum.kernel_seconds += kernel_s;
        } catch (...) {
          std::lock_guard lk(mu);
          if (!fatal) fatal = std::current_exception();
          next = tasks.size();
        }
      });
    }
  }
  if (fatal) std::rethrow_exception(fatal);

  for (auto& rows : per_op) {
    const bool any_failed = std::any_of(rows.begin(), rows.end(), [](const auto& r) { return r.status == "failed"; });
    if (rows.front().status == "not_supported") {
      ++sum.not_supported;
    } else if (any_failed) {
      ++sum.failed;
    } else {
      ++sum.passed;
    }
    ++sum.ops;
    for (auto& r : rows) sum.rows.push_back(std::move(r));
  }
  // Stored in execution order (an op's rows together); reported in msit's order.
  store.write_opcheck_results(sum.rows);
  std::stable_sort(sum.rows.begin(), sum.rows.end(), [](const OpcheckResultRow& a, const OpcheckResultRow& b) {
    if (a.op_id != b.op_id) return a.op_id < b.op_id;
    return a.out_tensor_id.value_or(-1) < b.out_tensor_id.value_or(-1);
  });
  sum.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return sum;
}

}  // namespace aitdb::compare
