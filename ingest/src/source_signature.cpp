#include "source_signature.h"

#include <xxhash.h>

#include <nlohmann/json.hpp>

#include "dump_walker.h"

namespace aitdb::ingest {

void SourceSignature::add(const std::string& rel, std::uint64_t size, std::optional<std::int64_t> mtime_ns) {
  // rel with its NUL, then size and mtime: "a"+"1…" never hashes like "a1"+"…".
  const std::int64_t mtime = mtime_ns.value_or(-1);
  std::string key(rel.data(), rel.size() + 1);
  key.append(reinterpret_cast<const char*>(&size), sizeof size);
  key.append(reinterpret_cast<const char*>(&mtime), sizeof mtime);
  digest += XXH64(key.data(), key.size(), 0);
  ++entries;
  bytes += size;
}

std::string SourceSignature::change_since(const SourceSignature& now) const {
  if (now.entries != entries) {
    return std::to_string(entries) + " files when ingested, " + std::to_string(now.entries) + " now";
  }
  if (now.bytes != bytes) return std::to_string(bytes) + " bytes when ingested, " + std::to_string(now.bytes) + " now";
  return "files renamed, resized or modified since ingest";
}

SourceSignature current_signature(const DetectedDump& dump) {
  DumpWalker::SkipDir skip;
  if (!dump.scope.empty()) skip = [&scope = dump.scope](const std::string& rel) { return scope.skips(rel); };
  DumpWalker walker(dump.root, dump.single_file, skip);
  SourceSignature sig;
  while (auto item = walker.next()) sig.add(item->rel, item->size, item->mtime_ns);
  return sig;
}

std::optional<SourceSignature> stored_signature(const std::string& options_json) {
  const auto j = nlohmann::json::parse(options_json, nullptr, false);
  if (!j.is_object() || !j.contains(kSignatureKey)) return std::nullopt;
  const auto& s = j[kSignatureKey];
  if (!s.is_object() || !s.contains("entries") || !s.contains("bytes") || !s.contains("digest")) return std::nullopt;
  SourceSignature sig;
  sig.entries = s["entries"].get<std::uint64_t>();
  sig.bytes = s["bytes"].get<std::uint64_t>();
  sig.digest = std::stoull(s["digest"].get<std::string>(), nullptr, 16);
  return sig;
}

}  // namespace aitdb::ingest
