// kvbench: a load generator for QuorumKV. Keeps --inflight requests in
// flight through the SDK's async API for --duration and prints throughput,
// latency percentiles and errors by code.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "client/include/quorumkv/client.h"
#include "common/process.h"

ABSL_FLAG(std::string, master, "127.0.0.1:7000", "master host:port");
ABSL_FLAG(std::string, mode, "iterative", "iterative or recursive");
ABSL_FLAG(std::string, workload, "put", "put, get or mixed");
ABSL_FLAG(double, read_fraction, 0.5, "share of gets in the mixed workload");
ABSL_FLAG(int, keys, 10000, "size of the keyspace");
ABSL_FLAG(int, inflight, 64, "requests kept in flight");
ABSL_FLAG(int, value_size, 100, "bytes per value");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10), "measured time");
ABSL_FLAG(int, w, 0, "write quorum (0: N/2+1)");
ABSL_FLAG(int, r, 0, "read quorum (0: N/2+1)");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(5), "per-request timeout");
ABSL_FLAG(bool, preload, true,
          "write every key once before a get or mixed run");

namespace quorumkv {
namespace {

enum class Workload { kPut, kGet, kMixed };

class Bench {
 public:
  Bench(Client* client, Workload workload, double read_fraction, int keys,
        std::string value, RequestOptions request)
      : client_(client),
        workload_(workload),
        read_fraction_(read_fraction),
        keys_(keys),
        value_(std::move(value)),
        request_(request) {}

  // Runs `inflight` request loops until `end`; returns when all are done.
  void Run(int inflight, absl::Time end, bool record) {
    end_ = end;
    record_ = record;
    {
      absl::MutexLock lock(&mu_);
      loops_ = inflight;
    }
    for (int i = 0; i < inflight; ++i) Next();
    absl::MutexLock lock(&mu_);
    auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return loops_ == 0;
    };
    mu_.Await(absl::Condition(&done));
  }

  // Writes every key once, `inflight` at a time.
  void Preload(int inflight) {
    preload_next_ = 0;
    preloading_ = true;
    Run(inflight, absl::InfiniteFuture(), /*record=*/false);
    preloading_ = false;
  }

  void Report(absl::Duration elapsed) {
    absl::MutexLock lock(&mu_);
    std::sort(latencies_ms_.begin(), latencies_ms_.end());
    auto pct = [&](double p) {
      if (latencies_ms_.empty()) return 0.0;
      size_t i = static_cast<size_t>(p * (latencies_ms_.size() - 1));
      return latencies_ms_[i];
    };
    const double seconds = absl::ToDoubleSeconds(elapsed);
    std::cout << absl::StrFormat(
        "ops: %d ok in %.1f s = %.0f ops/s\n"
        "latency ms: p50=%.3f p99=%.3f p999=%.3f max=%.3f\n",
        ok_, seconds, ok_ / seconds, pct(0.50), pct(0.99), pct(0.999),
        latencies_ms_.empty() ? 0.0 : latencies_ms_.back());
    std::cout << "errors:";
    if (errors_.empty()) std::cout << " none";
    for (const auto& [code, count] : errors_) {
      std::cout << " " << code << "=" << count;
    }
    std::cout << "\n";
    for (const auto& [code, message] : first_error_) {
      std::cout << "  first " << code << ": " << message << "\n";
    }
  }

 private:
  std::string KeyAt(int i) { return absl::StrCat("bench-", i); }

  void Next() {
    if (preloading_) {
      const int i = preload_next_.fetch_add(1);
      if (i >= keys_) return LoopDone();
      return Issue(true, KeyAt(i));
    }
    if (absl::Now() >= end_) return LoopDone();
    bool write;
    std::string key;
    {
      absl::MutexLock lock(&mu_);
      key = KeyAt(absl::Uniform(rng_, 0, keys_));
      write = workload_ == Workload::kPut ||
              (workload_ == Workload::kMixed &&
               !absl::Bernoulli(rng_, read_fraction_));
    }
    Issue(write, key);
  }

  void Issue(bool write, const std::string& key) {
    const absl::Time start = absl::Now();
    auto finish = [this, start](const absl::Status& status) {
      Record(status, absl::Now() - start);
      Next();
    };
    if (write) {
      client_->PutAsync(key, value_, request_,
                        [finish](absl::StatusOr<WriteResult> r) {
                          finish(r.status());
                        });
    } else {
      client_->GetAsync(key, request_,
                        [finish](absl::StatusOr<ReadResult> r) {
                          finish(r.status());
                        });
    }
  }

  void Record(const absl::Status& status, absl::Duration latency) {
    if (!record_) return;
    absl::MutexLock lock(&mu_);
    if (status.ok()) {
      ++ok_;
      latencies_ms_.push_back(absl::ToDoubleMilliseconds(latency));
      return;
    }
    const std::string code = absl::StatusCodeToString(status.code());
    ++errors_[code];
    first_error_.emplace(code, std::string(status.message()));
  }

  void LoopDone() {
    absl::MutexLock lock(&mu_);
    --loops_;
  }

  Client* const client_;
  const Workload workload_;
  const double read_fraction_;
  const int keys_;
  const std::string value_;
  const RequestOptions request_;
  absl::Time end_;
  bool record_ = false;
  std::atomic<bool> preloading_{false};
  std::atomic<int> preload_next_{0};

  absl::Mutex mu_;
  int loops_ ABSL_GUARDED_BY(mu_) = 0;
  absl::BitGen rng_ ABSL_GUARDED_BY(mu_);
  int64_t ok_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<double> latencies_ms_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int64_t> errors_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> first_error_ ABSL_GUARDED_BY(mu_);
};

int Fail(const std::string& message) {
  std::cerr << "kvbench: " << message << "\n";
  return 2;
}

int Main() {
  ClientOptions options;
  options.master = absl::GetFlag(FLAGS_master);
  auto mode = ParseQueryMode(absl::GetFlag(FLAGS_mode));
  if (!mode.ok()) return Fail(std::string(mode.status().message()));
  options.mode = *mode;
  options.timeout = absl::GetFlag(FLAGS_timeout);
  const std::string name = absl::GetFlag(FLAGS_workload);
  Workload workload;
  if (name == "put") {
    workload = Workload::kPut;
  } else if (name == "get") {
    workload = Workload::kGet;
  } else if (name == "mixed") {
    workload = Workload::kMixed;
  } else {
    return Fail("--workload must be put, get or mixed");
  }
  const int keys = absl::GetFlag(FLAGS_keys);
  const int inflight = absl::GetFlag(FLAGS_inflight);
  const int value_size = absl::GetFlag(FLAGS_value_size);
  const absl::Duration duration = absl::GetFlag(FLAGS_duration);
  if (keys < 1 || inflight < 1 || value_size < 0 ||
      duration <= absl::ZeroDuration()) {
    return Fail("--keys and --inflight must be >= 1, --value_size >= 0, "
                "--duration > 0");
  }
  auto client = Client::Create(options);
  if (!client.ok()) return Fail(std::string(client.status().message()));
  RequestOptions request;
  request.w = absl::GetFlag(FLAGS_w);
  request.r = absl::GetFlag(FLAGS_r);

  Bench bench(client->get(), workload, absl::GetFlag(FLAGS_read_fraction),
              keys, std::string(value_size, 'v'), request);
  std::cout << absl::StrFormat(
      "kvbench: workload=%s mode=%s keys=%d inflight=%d value_size=%d "
      "duration=%s w=%d r=%d\n",
      name, QueryModeName(options.mode), keys, inflight, value_size,
      absl::FormatDuration(duration), request.w, request.r);
  if (workload != Workload::kPut && absl::GetFlag(FLAGS_preload)) {
    bench.Preload(inflight);
  }
  const absl::Time start = absl::Now();
  bench.Run(inflight, start + duration, /*record=*/true);
  bench.Report(absl::Now() - start);
  return 0;
}

}  // namespace
}  // namespace quorumkv

int main(int argc, char** argv) {
  quorumkv::ParseDaemonFlags(argc, argv,
                             "kvbench [--master=HOST:PORT] [--workload=put] "
                             "[--inflight=64] [--duration=10s] ...");
  const int code = quorumkv::Main();
  std::cout.flush();
  quorumkv::ExitProcess(code);
}
