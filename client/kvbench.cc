// kvbench: a load generator for QuorumKV. Keeps --inflight requests in
// flight through the SDK's async API (optionally at a fixed --rate) for
// --duration, prints a progress line every second, and reports throughput,
// latency percentiles and errors by code, each figure also as a ratio to a
// ping baseline measured against the same storage nodes in the same run
// (docs/benchmarks.md).
#include <algorithm>
#include <cstdio>
#include <functional>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "client/bench/key_chooser.h"
#include "client/bench/latency_histogram.h"
#include "quorumkv/client.h"
#include "common/auth_tokens.h"
#include "common/grpc_log.h"
#include "common/tls.h"
#include "common/grpc_util.h"
#include "common/limits.h"
#include "common/process.h"
#include "common/rpc_status.h"
#include "common/timer_queue.h"
#include "proto/health.grpc.pb.h"

ABSL_FLAG(std::string, master, "",
          "master host:port, or HOST:PORT,HOST:PORT,... of several masters "
          "(default: $KV_MASTER, then 127.0.0.1:7000)");
ABSL_FLAG(std::string, mode, "iterative", "iterative or recursive");
ABSL_FLAG(std::string, tls_dir, "",
          "directory holding ca.pem, cert.pem and key.pem, for a cluster "
          "with mutual TLS (default: $KV_TLS_DIR; plaintext when neither)");
ABSL_FLAG(std::string, token_file, "",
          "file holding the token to send (default: $KV_TOKEN, the token "
          "itself)");
ABSL_FLAG(std::string, workload, "put",
          "ping (gRPC health check of the storage nodes), put, get, mixed "
          "(--read_fraction gets), YCSB's a (50% reads, 50% updates), b "
          "(95/5), c (reads only), mget and mput (--batch keys a call), "
          "incr (counters under counter/, a linearizable prefix the cluster "
          "must declare) or scan (whole-keyspace scans, keys/s)");
ABSL_FLAG(int, batch, 16, "keys per call of mget and mput (1..1024)");
ABSL_FLAG(double, read_fraction, 0.5, "share of gets in the mixed workload");
ABSL_FLAG(std::string, distribution, "uniform",
          "which keys requests touch: uniform or zipfian (YCSB, theta 0.99)");
ABSL_FLAG(int, keys, 10000, "size of the keyspace");
ABSL_FLAG(int, inflight, 64, "requests kept in flight");
ABSL_FLAG(double, rate, 0,
          "requests per second to issue (0: as fast as --inflight allows); "
          "latency is measured from when each request was due");
ABSL_FLAG(int, value_size, 100, "bytes per value");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10), "measured time");
ABSL_FLAG(absl::Duration, baseline, absl::Seconds(3),
          "length of the ping run measured first, against which every "
          "figure is given as 'x ping' (0: no baseline)");
ABSL_FLAG(int, w, 0, "write quorum (0: N/2+1)");
ABSL_FLAG(int, r, 0, "read quorum (0: N/2+1)");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(5), "per-request timeout");
ABSL_FLAG(bool, preload, true,
          "write every key once before a workload that reads");
ABSL_FLAG(bool, json, false, "print the final report as one JSON object");
ABSL_FLAG(bool, progress, true, "print a progress line every second");

namespace quorumkv {
namespace {

struct Workload {
  std::string name;
  bool ping = false;
  double read_fraction = 0;  // the rest are puts
  // How its requests go: one key each, a batch of keys, a counter's
  // increment, or a scan.
  enum class Kind { kSingle, kBatch, kIncrement, kScan } kind = Kind::kSingle;
};

absl::StatusOr<Workload> ParseWorkload(const std::string& name,
                                       double read_fraction) {
  if (name == "ping") return Workload{name, true, 0};
  if (name == "put") return Workload{name, false, 0};
  if (name == "get" || name == "c") return Workload{name, false, 1};
  if (name == "a") return Workload{name, false, 0.5};
  if (name == "b") return Workload{name, false, 0.95};
  if (name == "mget") {
    return Workload{name, false, 1, Workload::Kind::kBatch};
  }
  if (name == "mput") {
    return Workload{name, false, 0, Workload::Kind::kBatch};
  }
  if (name == "incr") {
    return Workload{name, false, 0, Workload::Kind::kIncrement};
  }
  if (name == "scan") {
    return Workload{name, false, 1, Workload::Kind::kScan};
  }
  if (name == "mixed") {
    if (read_fraction < 0 || read_fraction > 1) {
      return absl::InvalidArgumentError("--read_fraction must be in [0, 1]");
    }
    return Workload{name, false, read_fraction};
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--workload must be ping, put, get, mixed, a, b, c, mget, mput, incr "
      "or scan, not \"", name, "\""));
}

// What one measured run produced.
struct RunResult {
  std::string workload;
  absl::Duration elapsed;
  uint64_t ok = 0;
  LatencyHistogram latency;  // successful requests only
  // The same, for reads and for updates apart (mixed and YCSB workloads).
  uint64_t reads_ok = 0, updates_ok = 0;
  LatencyHistogram read_latency, update_latency;
  // How often each key was asked for, to name the hottest under zipfian.
  std::vector<uint64_t> key_hits;
  std::map<std::string, uint64_t> errors;
  std::map<std::string, std::string> first_error;

  double ops_per_sec() const { return ok / absl::ToDoubleSeconds(elapsed); }
  uint64_t failed() const {
    uint64_t n = 0;
    for (const auto& [code, count] : errors) n += count;
    return n;
  }
};

// Sends one request and calls back with its outcome; implementations are
// thread-safe.
class Target {
 public:
  virtual ~Target() = default;
  virtual void Issue(uint64_t key, bool read,
                     std::function<void(absl::Status)> done) = 0;
};

// Puts and gets through the SDK.
class StoreTarget final : public Target {
 public:
  StoreTarget(Client* client, RequestOptions request, std::string value)
      : client_(client), request_(request), value_(std::move(value)) {}

  void Issue(uint64_t key, bool read,
             std::function<void(absl::Status)> done) override {
    const std::string name = KeyChooser::KeyName(key);
    if (read) {
      client_->GetAsync(name, request_,
                        [done = std::move(done)](absl::StatusOr<ReadResult> r) {
                          done(r.status());
                        });
    } else {
      client_->PutAsync(name, value_, request_,
                        [done = std::move(done)](absl::StatusOr<WriteResult> r) {
                          done(r.status());
                        });
    }
  }

 private:
  Client* const client_;
  const RequestOptions request_;
  const std::string value_;
};

// `batch` keys a call from key on (mget and mput); a call is counted once.
class BatchTarget final : public Target {
 public:
  BatchTarget(Client* client, RequestOptions request, std::string value,
              int batch, int keys)
      : client_(client),
        request_(request),
        value_(std::move(value)),
        batch_(batch),
        keys_(keys) {}

  void Issue(uint64_t key, bool read,
             std::function<void(absl::Status)> done) override {
    auto first_error = [](const auto& results) {
      if (!results.ok()) return results.status();
      for (const auto& r : *results) {
        if (!r.ok()) return r.status();
      }
      return absl::OkStatus();
    };
    if (read) {
      std::vector<std::string> names;
      for (int i = 0; i < batch_; ++i) {
        names.push_back(KeyChooser::KeyName((key + i) % keys_));
      }
      client_->BatchGetAsync(
          names, request_,
          [done = std::move(done), first_error](auto results) {
            done(first_error(results));
          });
    } else {
      std::vector<std::pair<std::string, std::string>> items;
      for (int i = 0; i < batch_; ++i) {
        items.emplace_back(KeyChooser::KeyName((key + i) % keys_), value_);
      }
      client_->BatchPutAsync(
          items, request_,
          [done = std::move(done), first_error](auto results) {
            done(first_error(results));
          });
    }
  }

 private:
  Client* const client_;
  const RequestOptions request_;
  const std::string value_;
  const int batch_;
  const int keys_;
};

// Increments of counters under the linearizable prefix "counter/".
class IncrementTarget final : public Target {
 public:
  IncrementTarget(Client* client, RequestOptions request)
      : client_(client), request_(request) {}

  void Issue(uint64_t key, bool, std::function<void(absl::Status)> done) override {
    client_->IncrementAsync(
        absl::StrCat("counter/", KeyChooser::KeyName(key)), 1, request_,
        [done = std::move(done)](absl::StatusOr<CasResult> r) {
          done(r.status());
        });
  }

 private:
  Client* const client_;
  const RequestOptions request_;
};

// Scans of the whole keyspace, one after another, a page of 1000 keys at a
// time, until `duration`: `ok` counts keys, so ops/s is keys/s.
RunResult ScanFor(Client& client, const RequestOptions& request,
                  absl::Duration duration) {
  RunResult result;
  result.workload = "scan";
  const absl::Time start = absl::Now();
  ScanOptions options;
  options.limit = 1000;
  options.request = request;
  while (absl::Now() - start < duration) {
    const absl::Time asked = absl::Now();
    absl::StatusOr<ScanPage> page = client.Scan(options);
    if (!page.ok()) {
      const std::string code = absl::StatusCodeToString(page.status().code());
      ++result.errors[code];
      result.first_error.emplace(code, std::string(page.status().message()));
      options.cursor.clear();
      continue;
    }
    result.latency.Record(absl::Now() - asked);
    result.ok += page->items.size();
    options.cursor = page->cursor;  // empty: start over
  }
  result.elapsed = absl::Now() - start;
  return result;
}

// The baseline: the standard gRPC health check of the storage nodes, round
// robin, one plain round trip each.
class PingTarget final : public Target {
 public:
  PingTarget(const std::vector<std::string>& addresses, absl::Duration timeout,
             const ChannelSecurity& security)
      : timeout_(timeout) {
    for (const std::string& address : addresses) {
      stubs_.push_back(
          grpc::health::v1::Health::NewStub(MakeChannel(address, security)));
    }
  }

  void Issue(uint64_t key, bool, std::function<void(absl::Status)> done) override {
    struct Call {
      grpc::ClientContext context;
      grpc::health::v1::HealthCheckRequest request;
      grpc::health::v1::HealthCheckResponse response;
    };
    auto call = std::make_shared<Call>();
    SetTimeout(call->context, timeout_);
    stubs_[key % stubs_.size()]->async()->Check(
        &call->context, &call->request, &call->response,
        [call, done = std::move(done)](grpc::Status status) {
          done(FromGrpcStatus(status));
        });
  }

 private:
  const absl::Duration timeout_;
  std::vector<std::unique_ptr<grpc::health::v1::Health::Stub>> stubs_;
};

// Keeps `inflight` requests going against a target until a deadline (or
// until every key was written once, for a preload).
class Runner {
 public:
  Runner(Target* target, KeyChooser* keys, double read_fraction, double rate,
         bool progress)
      : target_(target),
        keys_(keys),
        read_fraction_(read_fraction),
        rate_(rate),
        progress_(progress) {}

  RunResult Run(const std::string& name, int inflight, absl::Duration duration) {
    return Drive(name, inflight, duration, std::nullopt);
  }
  // Writes keys 0..count-1 once each; no rate limit.
  RunResult Preload(int inflight, uint64_t count) {
    return Drive("preload", inflight, absl::InfiniteDuration(), count);
  }

 private:
  RunResult Drive(const std::string& name, int inflight,
                  absl::Duration duration, std::optional<uint64_t> sequential) {
    {
      absl::MutexLock lock(&mu_);
      result_ = RunResult();
      result_.workload = name;
      result_.key_hits.assign(keys_->size(), 0);
      loops_ = inflight;
      issued_ = 0;
      sequential_ = sequential;
      start_ = absl::Now();
      end_ = start_ + duration;
    }
    absl::Notification finished;
    std::thread reporter;
    if (progress_) {
      reporter = std::thread([this, &finished, name] { Progress(name, &finished); });
    }
    for (int i = 0; i < inflight; ++i) Next();
    RunResult result;
    {
      absl::MutexLock lock(&mu_);
      auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return loops_ == 0;
      };
      mu_.Await(absl::Condition(&done));
      result_.elapsed = std::min(absl::Now(), end_) - start_;
      result = std::move(result_);
    }
    finished.Notify();
    if (reporter.joinable()) reporter.join();
    return result;
  }

  // One line a second on stderr: what the last second did.
  void Progress(const std::string& name, absl::Notification* finished) {
    uint64_t last_ok = 0, last_failed = 0;
    absl::Time last = absl::Now();
    while (!finished->WaitForNotificationWithTimeout(absl::Seconds(1))) {
      uint64_t ok, failed;
      {
        absl::MutexLock lock(&mu_);
        ok = result_.ok;
        failed = result_.failed();
      }
      const absl::Time now = absl::Now();
      std::fprintf(stderr, "[%s] %.0f ops/s, %llu errors, %llu ok so far\n",
                   name.c_str(), (ok - last_ok) / absl::ToDoubleSeconds(now - last),
                   static_cast<unsigned long long>(failed - last_failed),
                   static_cast<unsigned long long>(ok));
      last_ok = ok;
      last_failed = failed;
      last = now;
    }
  }

  void Next() {
    uint64_t key;
    bool read = false;
    absl::Time due;
    {
      absl::MutexLock lock(&mu_);
      const uint64_t n = issued_++;
      if (sequential_) {
        if (n >= *sequential_) return LoopDone();
        key = n;
        due = absl::Now();
      } else {
        due = rate_ > 0 ? start_ + absl::Seconds(n / rate_) : absl::Now();
        if (due >= end_ || absl::Now() >= end_) return LoopDone();
        key = keys_->Next();
        read = read_fraction_ > 0 &&
               (read_fraction_ >= 1 || absl::Bernoulli(rng_, read_fraction_));
      }
    }
    if (due > absl::Now()) {
      timers_.RunAt(due, [this, key, read, due] { Issue(key, read, due); });
    } else {
      Issue(key, read, due);
    }
  }

  void Issue(uint64_t key, bool read, absl::Time due) {
    target_->Issue(key, read, [this, key, read, due](absl::Status status) {
      Record(status, key, read, absl::Now() - due);
      Next();
    });
  }

  void Record(const absl::Status& status, uint64_t key, bool read,
              absl::Duration latency) {
    absl::MutexLock lock(&mu_);
    if (key < result_.key_hits.size()) ++result_.key_hits[key];
    if (status.ok()) {
      ++result_.ok;
      result_.latency.Record(latency);
      ++(read ? result_.reads_ok : result_.updates_ok);
      (read ? result_.read_latency : result_.update_latency).Record(latency);
      return;
    }
    const std::string code = absl::StatusCodeToString(status.code());
    ++result_.errors[code];
    result_.first_error.emplace(code, std::string(status.message()));
  }

  void LoopDone() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { --loops_; }

  Target* const target_;
  KeyChooser* const keys_;
  const double read_fraction_;
  const double rate_;
  const bool progress_;

  absl::Mutex mu_;
  RunResult result_ ABSL_GUARDED_BY(mu_);
  int loops_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t issued_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<uint64_t> sequential_ ABSL_GUARDED_BY(mu_);
  absl::Time start_ ABSL_GUARDED_BY(mu_);
  absl::Time end_ ABSL_GUARDED_BY(mu_);
  absl::BitGen rng_ ABSL_GUARDED_BY(mu_);

  TimerQueue timers_;  // Last: drained before the rest is destroyed.
};

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

std::string Ratio(double value, double baseline) {
  return baseline > 0 ? absl::StrFormat("%.2fx ping", value / baseline) : "-";
}

std::string JsonString(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      absl::StrAppend(&out, "\\", std::string(1, c));
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppendFormat(&out, "\\u%04x", c);
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

std::string JsonRun(const RunResult& run) {
  std::vector<std::string> errors;
  for (const auto& [code, count] : run.errors) {
    errors.push_back(absl::StrCat(JsonString(code), ": ", count));
  }
  return absl::StrFormat(
      "{\"workload\": %s, \"seconds\": %.3f, \"ok\": %d, \"ops_per_sec\": "
      "%.1f, \"latency_ms\": {\"p50\": %.3f, \"p99\": %.3f, \"p999\": %.3f, "
      "\"max\": %.3f}, \"errors\": {%s}}",
      JsonString(run.workload), absl::ToDoubleSeconds(run.elapsed), run.ok,
      run.ops_per_sec(), Ms(run.latency.Percentile(0.5)),
      Ms(run.latency.Percentile(0.99)), Ms(run.latency.Percentile(0.999)),
      Ms(run.latency.max()), absl::StrJoin(errors, ", "));
}

// "p50=1.234 (1.10x ping)": a percentile of `latency`, and its ratio to
// the ping's (none without a baseline).
std::string Percentile(const char* name, double q, const LatencyHistogram& latency,
                       const RunResult* ping) {
  const double ms = Ms(latency.Percentile(q));
  const double base = ping ? Ms(ping->latency.Percentile(q)) : 0;
  return absl::StrFormat("%s=%.3f%s", name, ms,
                         base > 0 ? absl::StrFormat(" (%.2fx ping)", ms / base)
                                  : "");
}

void PrintRun(const RunResult& run, const RunResult* ping) {
  const double base_ops = ping ? ping->ops_per_sec() : 0;
  std::cout << absl::StrFormat(
      "%s: %d ok in %.1f s = %.0f ops/s%s\n  latency ms: %s %s %s max=%.3f\n",
      run.workload, run.ok, absl::ToDoubleSeconds(run.elapsed),
      run.ops_per_sec(),
      ping ? absl::StrCat(" (", Ratio(run.ops_per_sec(), base_ops), ")") : "",
      Percentile("p50", 0.5, run.latency, ping),
      Percentile("p99", 0.99, run.latency, ping),
      Percentile("p999", 0.999, run.latency, ping), Ms(run.latency.max()));
  if (run.reads_ok > 0 && run.updates_ok > 0) {
    // Mixed and YCSB workloads: reads and updates apart.
    const double seconds = absl::ToDoubleSeconds(run.elapsed);
    std::cout << absl::StrFormat(
        "  reads:   %d ok = %.0f ops/s, latency ms: %s %s\n"
        "  updates: %d ok = %.0f ops/s, latency ms: %s %s\n",
        run.reads_ok, run.reads_ok / seconds,
        Percentile("p50", 0.5, run.read_latency, ping),
        Percentile("p99", 0.99, run.read_latency, ping), run.updates_ok,
        run.updates_ok / seconds,
        Percentile("p50", 0.5, run.update_latency, ping),
        Percentile("p99", 0.99, run.update_latency, ping));
  }
  std::cout << "  errors:";
  if (run.errors.empty()) std::cout << " none";
  for (const auto& [code, count] : run.errors) {
    std::cout << " " << code << "=" << count;
  }
  std::cout << "\n";
  for (const auto& [code, message] : run.first_error) {
    std::cout << "  first " << code << ": " << message << "\n";
  }
}

// The `n` keys asked for most, with their share of the requests.
std::string HottestKeys(const RunResult& run, size_t n) {
  std::vector<std::pair<uint64_t, uint64_t>> hits;  // count, key
  uint64_t total = 0;
  for (uint64_t key = 0; key < run.key_hits.size(); ++key) {
    total += run.key_hits[key];
    if (run.key_hits[key] > 0) hits.emplace_back(run.key_hits[key], key);
  }
  n = std::min(n, hits.size());
  std::partial_sort(hits.begin(), hits.begin() + n, hits.end(),
                    std::greater<>());
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(absl::StrFormat("%s %.1f%%", KeyChooser::KeyName(hits[i].second),
                                  100.0 * hits[i].first / std::max<uint64_t>(total, 1)));
  }
  return absl::StrJoin(out, ", ");
}

int Fail(int code, const std::string& message) {
  std::cerr << "kvbench: " << message << "\n";
  return code;
}

int Main() {
  ClientOptions options;
  options.master = absl::GetFlag(FLAGS_master);
  if (options.master.empty()) {
    const char* env = std::getenv("KV_MASTER");
    options.master = env != nullptr && *env != '\0' ? env : "127.0.0.1:7000";
  }
  auto mode = ParseQueryMode(absl::GetFlag(FLAGS_mode));
  if (!mode.ok()) return Fail(2, std::string(mode.status().message()));
  options.mode = *mode;
  options.timeout = absl::GetFlag(FLAGS_timeout);
  auto token = ClientToken(absl::GetFlag(FLAGS_token_file));
  if (!token.ok()) return Fail(2, std::string(token.status().message()));
  options.token = *std::move(token);
  options.tls_dir = ClientTlsDir(absl::GetFlag(FLAGS_tls_dir));
  // The ping baseline's channels are as secure as the client's.
  ChannelSecurity ping_security{options.token, nullptr};
  if (!options.tls_dir.empty()) {
    auto tls = LoadTlsDir(options.tls_dir, "--tls_dir", /*signed_by_ca=*/false);
    if (!tls.ok()) return Fail(2, std::string(tls.status().message()));
    ping_security.tls = *std::move(tls);
  }
  auto workload = ParseWorkload(absl::GetFlag(FLAGS_workload),
                                absl::GetFlag(FLAGS_read_fraction));
  if (!workload.ok()) return Fail(2, std::string(workload.status().message()));
  auto distribution = ParseKeyDistribution(absl::GetFlag(FLAGS_distribution));
  if (!distribution.ok()) {
    return Fail(2, std::string(distribution.status().message()));
  }
  const int keys = absl::GetFlag(FLAGS_keys);
  const int inflight = absl::GetFlag(FLAGS_inflight);
  const int value_size = absl::GetFlag(FLAGS_value_size);
  const double rate = absl::GetFlag(FLAGS_rate);
  const absl::Duration duration = absl::GetFlag(FLAGS_duration);
  const absl::Duration baseline = absl::GetFlag(FLAGS_baseline);
  if (keys < 1) return Fail(2, "--keys must be >= 1");
  if (inflight < 1 || inflight > 100000) {
    return Fail(2, "--inflight must be in 1..100000");
  }
  if (value_size < 0 || static_cast<size_t>(value_size) > kMaxValueBytes) {
    return Fail(2, absl::StrCat("--value_size must be in 0..", kMaxValueBytes));
  }
  if (rate < 0) return Fail(2, "--rate must be >= 0");
  if (duration <= absl::ZeroDuration()) return Fail(2, "--duration must be > 0");
  if (baseline < absl::ZeroDuration()) return Fail(2, "--baseline must be >= 0");
  if (options.timeout <= absl::ZeroDuration()) {
    return Fail(2, "--timeout must be > 0");
  }
  auto client = Client::Create(options);
  if (!client.ok()) return Fail(2, std::string(client.status().message()));
  RequestOptions request;
  request.w = absl::GetFlag(FLAGS_w);
  request.r = absl::GetFlag(FLAGS_r);
  const bool json = absl::GetFlag(FLAGS_json);
  const bool progress = absl::GetFlag(FLAGS_progress);

  // The ping target needs the storage nodes' addresses.
  std::vector<std::string> nodes;
  if (workload->ping || baseline > absl::ZeroDuration()) {
    auto summary = (*client)->Nodes();
    if (!summary.ok()) {
      return Fail(3, absl::StrCat("cannot list the storage nodes: ",
                                  summary.status().message()));
    }
    for (const NodeSummary& node : summary->nodes) {
      if (node.node.state == "UP") nodes.push_back(node.node.address);
    }
    if (nodes.empty()) return Fail(3, "no storage node is UP");
  }
  // The targets and runners live until the process exits (it ends with
  // _Exit, running no destructors): when a run returns, the thread of its
  // last callback may still be unwinding through them.
  auto* chooser = new KeyChooser(*distribution, keys);
  PingTarget* ping =
      nodes.empty() ? nullptr : new PingTarget(nodes, options.timeout, ping_security);
  const int batch = absl::GetFlag(FLAGS_batch);
  if (batch < 1 || static_cast<size_t>(batch) > kMaxBatchKeys) {
    return Fail(2, absl::StrCat("--batch must be in 1..", kMaxBatchKeys));
  }
  Target* store = nullptr;
  switch (workload->kind) {
    case Workload::Kind::kBatch:
      store = new BatchTarget(client->get(), request,
                              std::string(value_size, 'v'), batch, keys);
      break;
    case Workload::Kind::kIncrement:
      store = new IncrementTarget(client->get(), request);
      break;
    default:
      store = new StoreTarget(client->get(), request,
                              std::string(value_size, 'v'));
  }
  auto* preloader =
      new StoreTarget(client->get(), request, std::string(value_size, 'v'));
  auto runner = [&](Target* target, double read_fraction, double at_rate) {
    return new Runner(target, chooser, read_fraction, at_rate, progress);
  };

  // The quorums in effect: the requested ones, or the cluster's majority.
  int effective_w = request.w, effective_r = request.r;
  if (effective_w == 0 || effective_r == 0) {
    if (auto n = (*client)->ReplicationFactor(); n.ok()) {
      const int majority = static_cast<int>(*n) / 2 + 1;
      if (effective_w == 0) effective_w = majority;
      if (effective_r == 0) effective_r = majority;
    }
  }
  if (!json) {
    std::cout << absl::StrFormat(
        "kvbench: workload=%s mode=%s distribution=%s keys=%d (bench/0.."
        "bench/%d) inflight=%d rate=%s value_size=%d duration=%s W=%d R=%d "
        "nodes=%d\n",
        workload->name, QueryModeName(options.mode),
        absl::GetFlag(FLAGS_distribution), keys, keys - 1, inflight,
        rate > 0 ? absl::StrCat(rate, "/s") : "max", value_size,
        absl::FormatDuration(duration), effective_w, effective_r, nodes.size());
  }
  std::optional<RunResult> preload, base;
  if (!workload->ping && workload->read_fraction > 0 &&
      absl::GetFlag(FLAGS_preload)) {
    preload = runner(preloader, 0, 0)->Preload(inflight, keys);
    if (!json) {
      std::cout << absl::StrFormat(
          "preload: %d keys in %.2f s = %.0f puts/s, %d errors\n", preload->ok,
          absl::ToDoubleSeconds(preload->elapsed), preload->ops_per_sec(),
          preload->failed());
    }
  }
  if (!workload->ping && baseline > absl::ZeroDuration()) {
    base = runner(ping, 0, rate)->Run("ping", inflight, baseline);
  }
  Target* target = workload->ping ? static_cast<Target*>(ping) : store;
  RunResult run = workload->kind == Workload::Kind::kScan
                      ? ScanFor(**client, request, duration)
                      : runner(target, workload->read_fraction, rate)
                            ->Run(workload->name, inflight, duration);
  if (workload->kind == Workload::Kind::kBatch) {
    // Each call carried --batch keys: figures are per key, to compare with
    // one ping per key.
    run.ok *= batch;
    run.workload = absl::StrCat(run.workload, " (keys, ", batch, " a call)");
  }

  if (json) {
    std::cout << absl::StrFormat(
        "{\"workload\": %s, \"mode\": %s, \"distribution\": %s, \"keys\": %d, "
        "\"inflight\": %d, \"rate\": %.1f, \"value_size\": %d, \"w\": %d, "
        "\"r\": %d, \"run\": %s",
        JsonString(workload->name), JsonString(QueryModeName(options.mode)),
        JsonString(absl::GetFlag(FLAGS_distribution)), keys, inflight, rate,
        value_size, effective_w, effective_r, JsonRun(run));
    if (base) {
      std::cout << absl::StrFormat(
          ", \"ping\": %s, \"x_ping\": %.3f, \"p99_x_ping\": %.3f",
          JsonRun(*base), run.ops_per_sec() / base->ops_per_sec(),
          Ms(run.latency.Percentile(0.99)) /
              Ms(base->latency.Percentile(0.99)));
    }
    if (preload) std::cout << ", \"preload\": " << JsonRun(*preload);
    if (run.reads_ok > 0 && run.updates_ok > 0) {
      const double seconds = absl::ToDoubleSeconds(run.elapsed);
      std::cout << absl::StrFormat(
          ", \"reads\": {\"ok\": %d, \"ops_per_sec\": %.1f, \"p50_ms\": %.3f, "
          "\"p99_ms\": %.3f}, \"updates\": {\"ok\": %d, \"ops_per_sec\": %.1f, "
          "\"p50_ms\": %.3f, \"p99_ms\": %.3f}",
          run.reads_ok, run.reads_ok / seconds,
          Ms(run.read_latency.Percentile(0.5)),
          Ms(run.read_latency.Percentile(0.99)), run.updates_ok,
          run.updates_ok / seconds, Ms(run.update_latency.Percentile(0.5)),
          Ms(run.update_latency.Percentile(0.99)));
    }
    if (absl::GetFlag(FLAGS_distribution) == "zipfian") {
      std::cout << ", \"hottest_keys\": " << JsonString(HottestKeys(run, 5));
    }
    std::cout << "}\n";
  } else {
    if (base) {
      std::cout << absl::StrFormat("baseline (ping, %s, before the run):\n",
                                   absl::FormatDuration(baseline));
      PrintRun(*base, nullptr);
    }
    PrintRun(run, base ? &*base : nullptr);
    if (absl::GetFlag(FLAGS_distribution) == "zipfian") {
      std::cout << "  hottest keys: " << HottestKeys(run, 5) << "\n";
    }
  }
  if (run.ok == 0 && run.failed() > 0) {
    return Fail(3, absl::StrCat("every request failed; first error: ",
                                run.first_error.begin()->first, ": ",
                                run.first_error.begin()->second));
  }
  if (run.ok == 0) return Fail(3, "no request completed");
  return 0;
}

}  // namespace
}  // namespace quorumkv

int main(int argc, char** argv) {
  quorumkv::ParseProgramFlags(
      argc, argv, "kvbench",
      "kvbench [--master=HOST:PORT[,...]] [--workload=ping|put|get|mixed|a|b|c] "
      "[--inflight=64] [--duration=10s] [--rate=N] [--json] ...",
      __FILE__);
  // Errors are counted by code in the report; gRPC's own lines would only
  // interleave with the progress lines.
  quorumkv::DropGrpcLog();
  const int code = quorumkv::Main();
  std::cout.flush();
  quorumkv::ExitProcess(code);
}
