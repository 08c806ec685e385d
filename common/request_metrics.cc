#include "common/request_metrics.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/rpc_status.h"

namespace quorumkv {
namespace {

const char* OpLabel(KvOp op) {
  switch (op) {
    case KvOp::kGet:
      return "get";
    case KvOp::kPut:
      return "put";
    case KvOp::kDelete:
      return "delete";
    case KvOp::kExpire:
      return "expire";
    case KvOp::kScan:
      return "scan";
    case KvOp::kCas:
      return "cas";
  }
  return "unknown";
}

const char* ModeLabel(bool relayed) {
  return relayed ? "recursive" : "iterative";
}

// From 0.5 ms (a local read) to 10 s (the default deadline).
prometheus::Histogram::BucketBoundaries LatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
          0.1,    0.25,  0.5,    1,     2.5,  5,     10};
}

}  // namespace

RequestMetrics::RequestMetrics(prometheus::Registry& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("quorumkv_requests_total")
                    .Help("Client requests, by operation, query mode and "
                          "outcome")
                    .Register(registry)),
      durations_(prometheus::BuildHistogram()
                     .Name("quorumkv_request_duration_seconds")
                     .Help("Time from a client request's arrival to its "
                           "answer, by operation and query mode")
                     .Register(registry)),
      quorum_failures_(prometheus::BuildCounter()
                           .Name("quorumkv_quorum_failures_total")
                           .Help("Client requests that did not reach their "
                                 "W or R acknowledgements")
                           .Register(registry)) {
  for (KvOp op : {KvOp::kGet, KvOp::kPut, KvOp::kDelete, KvOp::kExpire,
                  KvOp::kScan, KvOp::kCas}) {
    const int o = static_cast<int>(op);
    for (bool relayed : {false, true}) {
      ok_[o][relayed] = CounterFor(op, relayed, "ok");
      latency_[o][relayed] = &durations_.Add(
          {{"op", OpLabel(op)}, {"mode", ModeLabel(relayed)}}, LatencyBuckets());
    }
    quorum_failed_[o] = &quorum_failures_.Add({{"op", OpLabel(op)}});
  }
}

prometheus::Counter* RequestMetrics::CounterFor(KvOp op, bool relayed,
                                                const std::string& outcome) {
  const std::string key =
      absl::StrCat(OpLabel(op), "/", ModeLabel(relayed), "/", outcome);
  absl::MutexLock lock(&mu_);
  prometheus::Counter*& counter = counters_[key];
  if (counter == nullptr) {
    counter = &requests_.Add({{"op", OpLabel(op)},
                              {"mode", ModeLabel(relayed)},
                              {"outcome", outcome}});
  }
  return counter;
}

void RequestMetrics::Record(KvOp op, bool relayed, const absl::Status& status,
                            absl::Duration elapsed) {
  const int o = static_cast<int>(op);
  const int m = relayed ? 1 : 0;
  latency_[o][m]->Observe(absl::ToDoubleSeconds(elapsed));
  if (status.ok()) {
    ok_[o][m]->Increment();
    return;
  }
  if (GetQuorumNotReached(status)) quorum_failed_[o]->Increment();
  CounterFor(op, relayed, Outcome(status))->Increment();
}

uint64_t RequestMetrics::Count(KvOp op) const {
  const std::string prefix = absl::StrCat(OpLabel(op), "/");
  double total = 0;
  absl::MutexLock lock(&mu_);
  for (const auto& [key, counter] : counters_) {
    if (absl::StartsWith(key, prefix)) total += counter->Value();
  }
  return static_cast<uint64_t>(total);
}

std::string RequestMetrics::Outcome(const absl::Status& status) {
  if (status.ok()) return "ok";
  if (GetWrongNode(status)) return "wrong_node";
  if (GetQuorumNotReached(status)) return "quorum_not_reached";
  return absl::AsciiStrToLower(absl::StatusCodeToString(status.code()));
}

}  // namespace quorumkv
