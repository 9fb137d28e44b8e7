#include <gtest/gtest.h>
#include <sqlite3.h>

#include <random>

#include "aitdb/schema/blob_codec.h"
#include "aitdb/schema/errors.h"
#include "aitdb/schema/ingest_transaction.h"
#include "aitdb/schema/store.h"
#include "test_support.h"

namespace aitdb {
namespace {

std::vector<std::byte> random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::byte> v(n);
  for (auto& b : v) b = static_cast<std::byte>(rng() & 0xFFU);
  return v;
}

// Decodes an EncodedBlob's chunks the way the store does: planes, then the byte order restored.
std::vector<std::byte> decode_all(const EncodedBlob& b) {
  std::vector<std::byte> out;
  ByteBuffer planes;
  for (const auto& c : b.chunks) {
    const std::size_t n = decode_chunk_planes(b.codec, c, planes);
    const std::size_t base = out.size();
    out.resize(base + n);
    if (b.codec == "shuffle+zstd") {
      unshuffle_block(planes.data(), n / b.elem_size, 0, n / b.elem_size, b.elem_size, out.data() + base);
    } else {
      std::copy_n(planes.data(), n, out.data() + base);
    }
  }
  return out;
}

TEST(BlobCodec, RoundTripsEveryElementSize) {
  for (const std::size_t es : {1U, 2U, 4U, 8U, 16U}) {
    const auto raw = random_bytes(es * 1001, static_cast<unsigned>(es));
    const auto b = encode_blob(raw, es, 3);
    EXPECT_EQ(b.codec, es == 1 ? "zstd" : "shuffle+zstd");
    EXPECT_EQ(b.raw_size, raw.size());
    EXPECT_EQ(decode_all(b), raw);
    EXPECT_EQ(b.key, content_key(raw));
  }
}

TEST(BlobCodec, OddLengthFallsBackToPlainZstd) {
  const auto raw = random_bytes(1001, 7);
  const auto b = encode_blob(raw, 4, 3);
  EXPECT_EQ(b.codec, "zstd");
  EXPECT_EQ(decode_all(b), raw);
}

TEST(BlobCodec, ChunksLargeBlobsBelowTheRowCap) {
  std::vector<std::byte> raw(kMaxChunkRaw + 4096);
  for (std::size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<std::byte>((i * 31) & 0xFFU);
  const auto b = encode_blob(raw, 2, 1);
  ASSERT_EQ(b.chunks.size(), 2U);
  for (const auto& c : b.chunks) EXPECT_LT(c.size(), 64U << 20U);
  EXPECT_EQ(decode_all(b), raw);
}

TEST(BlobCodec, ShuffleHelpsFloatData) {
  std::vector<std::uint16_t> h(1 << 16);
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0, 1);
  for (auto& x : h) x = test::f32_to_f16_bits(nd(rng));
  const auto raw = test::bytes_of(h);
  const auto shuffled = encode_blob(raw, 2, 3);
  const auto plain = encode_blob(raw, 1, 3);
  EXPECT_LT(shuffled.stored_size(), plain.stored_size());
}

TEST(BlobCodec, ChunkBuffersAreReusedThroughThePool) {
  ChunkBuffer::release_pool();  // other tests' chunks may be pooled
  EXPECT_EQ(ChunkBuffer::pooled_bytes(), 0U);
  constexpr std::size_t kCap = 1U << 20U;
  const std::byte* first = nullptr;
  {
    ChunkBuffer c = ChunkBuffer::with_capacity(kCap);
    c.set_size(100);
    EXPECT_EQ(c.size(), 100U);
    EXPECT_THROW(c.set_size(kCap + 1), InternalError);  // errors one way: only aitdb::Error subclasses
    first = c.data();
    ChunkBuffer moved(std::move(c));
    EXPECT_EQ(moved.data(), first);
    EXPECT_EQ(moved.size(), 100U);
    EXPECT_EQ(c.size(), 0U);  // NOLINT(bugprone-use-after-move): a moved-from buffer is empty
  }
  // Returned to the pool on destruction: the next request that fits gets the same storage.
  EXPECT_EQ(ChunkBuffer::pooled_bytes(), kCap);
  {
    const ChunkBuffer again = ChunkBuffer::with_capacity(kCap);
    EXPECT_EQ(again.data(), first);
    EXPECT_EQ(ChunkBuffer::pooled_bytes(), 0U);
  }
  // Retention is bounded: of twenty 4 MiB buffers freed at once, at most eight stay pooled.
  {
    std::vector<ChunkBuffer> many;
    for (int i = 0; i < 20; ++i) many.push_back(ChunkBuffer::with_capacity(4U << 20U));
  }
  EXPECT_LE(ChunkBuffer::pooled_bytes(), 8U * (4U << 20U));
  EXPECT_GT(ChunkBuffer::pooled_bytes(), 0U);
  ChunkBuffer::release_pool();
  // Chunks of an encoded blob are such buffers, and read back through their byte view.
  const auto raw = random_bytes(4 * 5000, 3);
  const auto b = encode_blob(raw, 4, 1);
  ASSERT_EQ(b.chunks.size(), 1U);
  EXPECT_EQ(std::span<const std::byte>(b.chunks[0]).size(), b.chunks[0].size());
  EXPECT_EQ(decode_all(b), raw);
}

TEST(BlobCodec, KnownHashes) {
  // XXH3-128 of the empty input and MD5 reference values.
  EXPECT_EQ(content_key({}).hex(), "99aa06d3014798d86001c324468d497f");
  EXPECT_EQ(md5_hex({}), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(md5_hex(test::bytes_of(std::string("abc"))), "900150983cd24fb0d6963f7d28e17f72");
}

TEST(BlobCodec, KeysAreLibxxhashValuesWhicheverWayTheyAreComputed) {
  // Reference values printed by Debian's libxxhash (XXH3_128bits + canonical form): keys of
  // stores written before the AVX2 hasher, or on other CPUs, must stay valid.
  std::vector<std::byte> b(100003);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::byte>((i * 131U + 7U) & 0xFFU);
  EXPECT_EQ(content_key(b).hex(), "6f6fc5c14d9fa2bad0a8e7c7a03ad008");
  EXPECT_EQ(content_key(std::span(b).first(17)).hex(), "66fc23f6439dbd778d96ef110fcdebb4");
  // Streamed in uneven pieces (as BlobStream feeds it), the key is the same.
  ContentHasher h;
  std::size_t off = 0;
  for (std::size_t piece = 1; off < b.size(); piece = piece * 3 + 1) {
    const std::size_t n = std::min(piece, b.size() - off);
    h.update(std::span(b).subspan(off, n));
    off += n;
  }
  EXPECT_EQ(h.key().hex(), "6f6fc5c14d9fa2bad0a8e7c7a03ad008");
}

TEST(Store, CreatesSchemaAndRefusesNewerVersions) {
  test::TempDir d;
  const auto db = (d / "a.db").string();
  {
    Store s(db);
    EXPECT_EQ(s.schema_version(), kSchemaVersion);
  }
  {
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
    sqlite3_exec(h, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
    sqlite3_close(h);
  }
  try {
    Store s(db);
    FAIL() << "opened a newer schema";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos);
  }
  EXPECT_THROW(Store((d / "missing.db").string(), Store::Mode::ReadOnly), StoreError);
}

TensorRow row_for(const EncodedBlob& b) {
  TensorRow t;
  t.source_kind = "npy";
  t.dtype = DType::Float32;
  t.shape = std::vector<std::int64_t>{static_cast<std::int64_t>(b.raw_size / 4)};
  t.numel = static_cast<std::int64_t>(b.raw_size / 4);
  t.nbytes = static_cast<std::int64_t>(b.raw_size);
  t.blob_key = b.key;
  return t;
}

// Ingests `raw` as the one float32 tensor of a new run "r" and returns its blob key.
BlobKey store_one_blob(Store& s, std::span<const std::byte> raw) {
  IngestTransaction tx(s, RunSpec{"r", "files", "/x", "{}"}, false);
  const auto b = encode_blob(raw, 4, kDefaultZstdLevel);
  tx.put_blob(b);
  tx.add_tensor(row_for(b));
  tx.commit();
  return b.key;
}

TEST(Store, UncommittedIngestLeavesNothing) {
  test::TempDir d;
  Store s((d / "a.db").string());
  {
    IngestTransaction tx(s, RunSpec{"r1", "files", "/x", "{}"}, false);
    const auto b = encode_blob(random_bytes(400, 1), 4, 3);
    tx.put_blob(b);
    tx.add_tensor(row_for(b));
  }  // destroyed without commit
  EXPECT_TRUE(s.list_runs().empty());
  EXPECT_EQ(s.info().blobs, 0);
}

TEST(Store, IdenticalBytesAreStoredOnceAcrossRuns) {
  test::TempDir d;
  Store s((d / "a.db").string());
  const auto b = encode_blob(random_bytes(4000, 2), 4, 3);
  for (const char* name : {"r1", "r2"}) {
    IngestTransaction tx(s, RunSpec{name, "files", "/x", "{}"}, false);
    const bool fresh = tx.put_blob(b);
    EXPECT_EQ(fresh, std::string(name) == "r1");
    tx.add_tensor(row_for(b));
    tx.commit();
  }
  const auto info = s.info();
  EXPECT_EQ(info.blobs, 1);
  EXPECT_EQ(info.tensors, 2);
  EXPECT_EQ(info.referenced_raw_bytes, 8000);
  EXPECT_EQ(info.unique_raw_bytes, 4000);
  // Replacing one run keeps the blob the other still uses; replacing both frees it.
  {
    IngestTransaction tx(s, RunSpec{"r1", "files", "/x", "{}"}, true);
    tx.commit();
  }
  EXPECT_EQ(s.info().blobs, 1);
  {
    IngestTransaction tx(s, RunSpec{"r2", "files", "/x", "{}"}, true);
    tx.commit();
  }
  EXPECT_EQ(s.info().blobs, 0);
}

TEST(Store, CorruptedBlobIsDetectedOnRead) {
  test::TempDir d;
  const auto db = (d / "a.db").string();
  std::vector<float> v(1000);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i) * 0.25F;
  const auto raw = test::bytes_of(v);
  BlobKey key;
  {
    Store s(db);
    key = store_one_blob(s, raw);
    EXPECT_EQ(s.read_blob(key, "t"), raw);
  }
  // Swap the stored chunk for a valid zstd frame of different bytes: decodes fine, hash differs.
  {
    auto other = raw;
    other[17] = std::byte{0x55};
    const auto evil = encode_blob(other, 4, 3);
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(h, "UPDATE blob_chunks SET data = ?", -1, &st, nullptr);
    sqlite3_bind_blob(st, 1, evil.chunks[0].data(), static_cast<int>(evil.chunks[0].size()), SQLITE_TRANSIENT);
    ASSERT_EQ(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(h);
  }
  Store s(db);
  try {
    s.read_blob(key, "tensor 1 (x.bin)");
    FAIL() << "corruption not detected";
  } catch (const IntegrityError& e) {
    EXPECT_EQ(e.path(), "tensor 1 (x.bin)");
    EXPECT_NE(e.reason().find("content hash"), std::string::npos);
  }
  // Garbage that is not even zstd is an integrity error too, naming the tensor.
  {
    sqlite3* h = nullptr;
    sqlite3_open(db.c_str(), &h);
    sqlite3_exec(h, "UPDATE blob_chunks SET data = x'00112233'", nullptr, nullptr, nullptr);
    sqlite3_close(h);
  }
  try {
    s.read_blob(key, "tensor 1");
    FAIL();
  } catch (const IntegrityError& e) {
    EXPECT_EQ(e.path(), "tensor 1");
  }
  // A chunk stored as text, or empty, cannot be decoded either: an integrity error.
  for (const char* value : {"'text'", "x''"}) {
    sqlite3* h = nullptr;
    sqlite3_open(db.c_str(), &h);
    sqlite3_exec(h, (std::string("UPDATE blob_chunks SET data = ") + value).c_str(), nullptr, nullptr, nullptr);
    sqlite3_close(h);
    try {
      s.read_blob(key, "tensor 1");
      FAIL() << value;
    } catch (const IntegrityError& e) {
      EXPECT_EQ(e.path(), "tensor 1");
    }
  }
}

TEST(Store, ReadingBlobsLeavesNoLockBehind) {
  // Blob readers are kept for reuse between streams; they must not keep a read transaction
  // open, or another process could never commit to the warehouse while this Store lives.
  test::TempDir d;
  const auto db = (d / "a.db").string();
  const auto raw = random_bytes(4 * 3000, 9);
  Store s(db);
  const BlobKey key = store_one_blob(s, raw);
  EXPECT_THROW(s.read_blob(BlobKey{}, "missing"), IntegrityError);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(s.read_blob(key, "t"), raw);  // reused reader, same bytes
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &other), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(other, "BEGIN EXCLUSIVE; CREATE TABLE t(x); COMMIT;", nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(other);
  sqlite3_close(other);
  EXPECT_EQ(s.read_blob(key, "t"), raw);
}

TEST(Store, ExecuteBindsParametersAndReportsSqlErrors) {
  test::TempDir d;
  Store s((d / "a.db").string());
  std::vector<std::string> header;
  std::vector<std::vector<SqlValue>> rows;
  s.execute("SELECT ?1 + 1 AS a, ?2 AS b", {SqlValue{std::int64_t{41}}, SqlValue{std::string("x")}},
            [&](const auto& h) { header = h; }, [&](const auto& r) { rows.push_back(r); });
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(header, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(std::get<std::int64_t>(rows[0][0]), 42);
  EXPECT_EQ(std::get<std::string>(rows[0][1]), "x");
  EXPECT_THROW(s.execute("SELEC 1", {}, [](const auto&) {}, [](const auto&) {}), Error);
}

}  // namespace
}  // namespace aitdb
