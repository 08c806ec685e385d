// Fuzzes what a server does with a KvService.Batch message off the wire
// (common/kv_methods.h): the bytes parse as a KvRequestBatch or are
// dropped; every request in it is dispatched with its deadline and checked
// as a storage node checks it (key, value, W or R against N=3). Each gets
// exactly one reply carrying its id, and a refused one an
// INVALID_ARGUMENT (or, past its deadline, DEADLINE_EXCEEDED) that says
// why.
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "common/kv_methods.h"
#include "common/kv_validation.h"
#include "common/limits.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

// What a storage node's front end checks before coordinating anything.
template <typename Request>
absl::Status Validate(const Request& request) {
  using namespace quorumkv;
  if constexpr (std::is_same_v<Request, ScanRequest>) {
    return ValidateScan(request, /*partitions=*/64);
  } else if constexpr (std::is_same_v<Request, CasRequest>) {
    return ValidateCas(request);
  } else {
    if (absl::Status s = ValidateKey(request.key()); !s.ok()) return s;
  }
  if constexpr (std::is_same_v<Request, PutRequest>) {
    if (absl::Status s = ValidateValue(request.value()); !s.ok()) return s;
    if (absl::Status s = ValidateTtl(request.ttl_ms(), true); !s.ok()) return s;
  }
  if constexpr (std::is_same_v<Request, ExpireRequest>) {
    if (absl::Status s = ValidateTtl(request.ttl_ms(), true); !s.ok()) return s;
  }
  return ResolveQuorum(KvMethod<Request>::kQuorumName,
                       KvMethod<Request>::Quorum(request), 3)
      .status();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace quorumkv;
  KvRequestBatch batch;
  if (!batch.ParseFromArray(data, static_cast<int>(size))) return 0;
  for (const KvRequest& request : batch.requests()) {
    int replies = 0;
    DispatchBatched(
        request, absl::Seconds(1),
        [](const auto& inner, absl::Time, auto done, const CancellationPtr&) {
          using Method = KvMethod<std::decay_t<decltype(inner)>>;
          absl::Status status = Validate(inner);
          if (!status.ok()) {
            done(status);
          } else {
            done(typename Method::Response());
          }
        },
        CancellationPtr(),
        [&](KvReply reply) {
          ++replies;
          FuzzCheck(reply.id() == request.id());
          if (reply.has_error()) {
            FuzzCheck(reply.error().code() != 0);
            FuzzCheck(!reply.error().message().empty());
          }
        });
    FuzzCheck(replies == 1);
  }
  return 0;
}
