#pragma once
// Recognising the dump roots that start at one directory, from directory and file names only
// (a few listings, no file is opened).
#include <filesystem>
#include <string>
#include <vector>

#include "aitdb/ingest/layout.h"

namespace aitdb::ingest {

bool is_atb_rank_name(const std::string& n);    // "0_35570", "-1_7", md5-era "thread_35570"
bool is_torch_rank_name(const std::string& n);  // "npu0_7624", "cuda1_9", "cpu_3"

// Roots starting at `dir`: usually none or one; two when a torch tree sits beside an ATB tree
// (the torch root is then the torch_tensors folder itself). `listed` counts directory listings.
std::vector<DetectedDump> dump_roots_at(const std::filesystem::path& dir, std::size_t& listed);

// A run root with the given layout (name left empty: discovery names roots).
DetectedDump make_root(std::string flavour, const std::filesystem::path& root, std::unique_ptr<DumpLayout> layout);

// One-line list of what discovery recognises, for "nothing found" errors.
const char* recognised_dump_kinds();

}  // namespace aitdb::ingest
