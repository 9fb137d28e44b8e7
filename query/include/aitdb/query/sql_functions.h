#pragma once
#include "aitdb/schema/store.h"

namespace aitdb::query {

// Registers on the connection: cos_sim(key_a, key_b), max_abs_err, max_rel_err, mean_rel_err,
// kl_div (msit semantics, arguments are blob keys, e.g. tensors.blob_key) and
// tensor_stat(key, 'min'|'max'|'mean'|'std'|'l2norm'|'nan_count'|'inf_count'|'zero_count'|'numel').
// NULL in gives NULL out; a pair failing msit's pre-check (size, NaN/inf) gives NULL.
void register_sql_functions(Store& store);

}  // namespace aitdb::query
