// `aitdb show TENSOR` and `aitdb export-tensor TENSOR -o FILE`.
#include <iostream>

#include "aitdb/query/tensor_io.h"
#include "aitdb/schema/errors.h"
#include "commands.h"

namespace aitdb::cli {
namespace {

constexpr const char* kTensorSpecHelp =
    "Tensor id, RUN:PATH[#NAME] (PATH relative to the run root), or a path as a report CSV prints it";

}  // namespace

void register_show(CLI::App& app, Context& ctx) {
  auto spec = std::make_shared<std::string>();
  auto values = std::make_shared<std::size_t>(10);
  auto* cmd = app.add_subcommand("show", "Identity, statistics and first values of one tensor");
  cmd->add_option("TENSOR", *spec, kTensorSpecHelp)->required();
  cmd->add_option("--values,-n", *values, "How many leading values to print (default 10)");
  add_common_options(*cmd, ctx);
  cmd->callback([spec, values, &ctx] {
    Store store = open_store(ctx, DbAccess::Read);
    query::describe_tensor(store, query::resolve_tensor(store, *spec), *values, std::cout);
  });
}

void register_export_tensor(CLI::App& app, Context& ctx) {
  auto spec = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto as_float = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("export-tensor", "Write one stored tensor back out, bit-exact");
  cmd->add_option("TENSOR", *spec, kTensorSpecHelp)->required();
  cmd->add_option("-o,--output", *out, "Output file: .npy, or .bin for an ATB TensorBinFile")->required();
  cmd->add_flag("--as-float32", *as_float,
                "Convert to float32 (.npy export already does so for bfloat16 and float8, which numpy lacks)");
  add_common_options(*cmd, ctx);
  cmd->callback([spec, out, as_float, &ctx] {
    Store store = open_store(ctx, DbAccess::Read);
    const auto t = query::resolve_tensor(store, *spec);
    const DType written = query::export_tensor(store, t, *out, query::export_format_for(*out), *as_float);
    if (t.dtype && written != *t.dtype && !*as_float) {
      ctx.info("note: numpy has no " + std::string(dtype_name(*t.dtype)) + "; " + *out +
               " holds its values as float32, exactly (export to .bin for the original bytes)");
    }
    std::cout << "wrote " << escape_for_message(*out) << "\n";
  });
}

}  // namespace aitdb::cli
