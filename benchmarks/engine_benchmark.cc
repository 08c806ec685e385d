// The engine's apply path: one row per RocksDB write (a coordinator's own
// write) against many rows per write (a peer-stream message), and reads.
//
//   build/bin/engine_benchmark --benchmark_min_time=2
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "storage_node/engine.h"

namespace quorumkv {
namespace {

constexpr int kKeys = 10000;

// A fresh engine in a temporary directory, removed afterwards.
class ScratchEngine {
 public:
  ScratchEngine() {
    dir_ = std::filesystem::temp_directory_path() /
           absl::StrCat("qkv-engine-bench-", getpid());
    std::filesystem::remove_all(dir_);
    engine_ = *Engine::Open(dir_.string());
  }
  ~ScratchEngine() {
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }
  Engine& operator*() { return *engine_; }
  Engine* operator->() { return engine_.get(); }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<Engine> engine_;
};

std::vector<std::string> Keys() {
  std::vector<std::string> keys;
  for (int i = 0; i < kKeys; ++i) keys.push_back(absl::StrCat("bench-", i));
  return keys;
}

VersionedValue Value(uint64_t wall, size_t bytes) {
  VersionedValue v;
  v.mutable_version()->set_wall_ms(wall);
  v.mutable_version()->set_node_id("node-1");
  v.set_value(std::string(bytes, 'v'));
  return v;
}

// Rows per RocksDB write: 1 is a coordinator's own write, more a message of
// the per-peer stream. Items are rows.
void BM_ApplyMany(benchmark::State& state) {
  ScratchEngine engine;
  const auto keys = Keys();
  const size_t batch = state.range(0);
  const size_t value_bytes = state.range(1);
  std::vector<VersionedValue> values(batch);
  std::vector<RowWrite> rows(batch);
  std::vector<bool> stored;
  uint64_t wall = 1;
  size_t next = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < batch; ++i) {
      values[i] = Value(++wall, value_bytes);
      const std::string& key = keys[next++ % keys.size()];
      rows[i] = {static_cast<uint32_t>(next % 64), key, &values[i]};
    }
    if (!engine->ApplyMany(rows, &stored).ok()) state.SkipWithError("write");
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_ApplyMany)
    ->ArgNames({"rows", "value_bytes"})
    ->Args({1, 100})
    ->Args({16, 100})
    ->Args({256, 100})
    ->Args({1, 16384})
    ->Args({16, 16384});

void BM_Read(benchmark::State& state) {
  ScratchEngine engine;
  const auto keys = Keys();
  const VersionedValue value = Value(1, 100);
  for (size_t i = 0; i < keys.size(); ++i) {
    (void)engine->Apply(i % 64, keys[i], value);
  }
  size_t next = 0;
  for (auto _ : state) {
    const size_t i = next++ % keys.size();
    benchmark::DoNotOptimize(engine->Read(i % 64, keys[i]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Read);

}  // namespace
}  // namespace quorumkv

BENCHMARK_MAIN();
