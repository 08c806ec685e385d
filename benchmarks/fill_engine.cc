// Fills a storage node's engine with COUNT keys "bench-0".."bench-COUNT-1"
// of VALUE_BYTES random (incompressible) bytes each, in the partitions a P-partition directory gives
// them, straight through the engine (as replicas store batches), so that a
// node holding millions of keys can be measured without loading it over
// the network for an hour. Run it on a stopped node's DATA_DIR/db.
//
//   build/bin/fill_engine DATA_DIR/db COUNT [PARTITIONS=64] [VALUE_BYTES=100]
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/hash.h"
#include "storage_node/engine.h"

int main(int argc, char** argv) {
  using namespace quorumkv;
  uint64_t count = 0;
  uint32_t partitions = 64, value_bytes = 100;
  if (argc < 3 || !absl::SimpleAtoi(argv[2], &count) ||
      (argc > 3 && !absl::SimpleAtoi(argv[3], &partitions)) ||
      (argc > 4 && !absl::SimpleAtoi(argv[4], &value_bytes)) || partitions == 0) {
    std::fprintf(stderr,
                 "usage: fill_engine DB_DIR COUNT [PARTITIONS=64] "
                 "[VALUE_BYTES=100]\n");
    return 2;
  }
  auto engine = Engine::Open(argv[1]);
  if (!engine.ok()) {
    std::fprintf(stderr, "fill_engine: %s\n",
                 std::string(engine.status().message()).c_str());
    return 1;
  }
  absl::InsecureBitGen random;
  const absl::Time start = absl::Now();
  constexpr uint64_t kBatch = 1000;
  std::vector<std::string> keys(kBatch);
  std::vector<VersionedValue> values(kBatch);
  std::vector<RowWrite> rows(kBatch);
  std::vector<bool> stored;
  for (uint64_t first = 0; first < count; first += kBatch) {
    const uint64_t n = std::min(kBatch, count - first);
    for (uint64_t i = 0; i < n; ++i) {
      keys[i] = absl::StrCat("bench-", first + i);
      values[i].mutable_version()->set_wall_ms(absl::ToUnixMillis(absl::Now()));
      values[i].mutable_version()->set_node_id("fill");
      std::string* bytes = values[i].mutable_value();
      bytes->resize(value_bytes);
      for (char& c : *bytes) c = static_cast<char>(absl::Uniform<uint8_t>(random));
      rows[i] = {PartitionOf(keys[i], partitions), keys[i], &values[i]};
    }
    absl::Status s = (*engine)->ApplyMany(
        absl::MakeConstSpan(rows.data(), n), &stored);
    if (!s.ok()) {
      std::fprintf(stderr, "fill_engine: %s\n", std::string(s.message()).c_str());
      return 1;
    }
  }
  std::printf("filled %llu keys in %.1f s\n",
              static_cast<unsigned long long>(count),
              absl::ToDoubleSeconds(absl::Now() - start));
  return 0;
}
