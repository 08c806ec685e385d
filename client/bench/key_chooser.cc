#include "client/bench/key_chooser.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/hash.h"

namespace quorumkv {
namespace {

double Zeta(uint64_t n, double theta) {
  double sum = 0;
  for (uint64_t i = 1; i <= n; ++i) sum += 1.0 / std::pow(double(i), theta);
  return sum;
}

}  // namespace

absl::StatusOr<KeyDistribution> ParseKeyDistribution(const std::string& name) {
  if (name == "uniform") return KeyDistribution::kUniform;
  if (name == "zipfian") return KeyDistribution::kZipfian;
  return absl::InvalidArgumentError(absl::StrCat(
      "--distribution must be uniform or zipfian, not \"", name, "\""));
}

KeyChooser::KeyChooser(KeyDistribution distribution, uint64_t keys)
    : distribution_(distribution), keys_(keys) {
  if (distribution_ != KeyDistribution::kZipfian) return;
  // O(keys) once; a million keys take a few milliseconds.
  zeta_n_ = Zeta(keys_, theta_);
  const double zeta_2 = Zeta(2, theta_);
  alpha_ = 1.0 / (1.0 - theta_);
  eta_ = (1 - std::pow(2.0 / keys_, 1 - theta_)) / (1 - zeta_2 / zeta_n_);
  half_pow_theta_ = 1 + std::pow(0.5, theta_);
}

uint64_t KeyChooser::NextZipfianRank() {
  const double u = absl::Uniform(rng_, 0.0, 1.0);
  const double uz = u * zeta_n_;
  if (uz < 1.0) return 0;
  if (uz < half_pow_theta_) return 1;
  return static_cast<uint64_t>(keys_ * std::pow(eta_ * u - eta_ + 1, alpha_)) %
         keys_;
}

uint64_t KeyChooser::Next() {
  absl::MutexLock lock(&mu_);
  if (distribution_ == KeyDistribution::kUniform) {
    return absl::Uniform<uint64_t>(rng_, 0, keys_);
  }
  // Scatter ranks over the keyspace, as YCSB's scrambled zipfian does.
  const uint64_t rank = NextZipfianRank();
  return StableHash(absl::StrCat(rank)) % keys_;
}

std::string KeyChooser::KeyName(uint64_t index) {
  return absl::StrCat("bench/", index);
}

}  // namespace quorumkv
