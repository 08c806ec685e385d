// Which key each kvbench request touches: uniform over the keyspace, or
// zipfian as YCSB draws it (theta 0.99, Gray et al.'s generator), with the
// ranks scattered over the keyspace so that hot keys fall in different
// partitions rather than in the first few. Thread-safe.
#ifndef QUORUMKV_CLIENT_BENCH_KEY_CHOOSER_H_
#define QUORUMKV_CLIENT_BENCH_KEY_CHOOSER_H_

#include <cstdint>
#include <string>

#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace quorumkv {

enum class KeyDistribution { kUniform, kZipfian };

absl::StatusOr<KeyDistribution> ParseKeyDistribution(const std::string& name);

class KeyChooser {
 public:
  KeyChooser(KeyDistribution distribution, uint64_t keys);

  // A key index in [0, keys).
  uint64_t Next();
  // How many keys it chooses from.
  uint64_t size() const { return keys_; }
  // The name of key `index`, as preload writes it: "bench/INDEX", under a
  // prefix of its own so that users find and remove them (kvcli scan
  // --prefix=bench/).
  static std::string KeyName(uint64_t index);

 private:
  uint64_t NextZipfianRank() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const KeyDistribution distribution_;
  const uint64_t keys_;
  // Zipfian constants, fixed by `keys_`.
  double theta_ = 0.99, zeta_n_ = 0, alpha_ = 0, eta_ = 0, half_pow_theta_ = 0;

  absl::Mutex mu_;
  absl::BitGen rng_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quorumkv

#endif  // QUORUMKV_CLIENT_BENCH_KEY_CHOOSER_H_
