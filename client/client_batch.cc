// Client::BatchGet, BatchPut and BatchDelete: many keys per call, one
// result per key, not atomic. Each key is its own request on the streams
// the SDK already keeps (one per node in iterative mode, per master in
// recursive mode), all started at once, so the requests bound for one node
// travel together in its stream's messages: grouped per node with no
// second routing loop.
#include <atomic>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "client/client_internal.h"
#include "common/hlc.h"
#include "common/limits.h"
#include "common/status_macros.h"
#include "quorumkv/client.h"

namespace quorumkv {
namespace {

// Checks the limits of a batch before anything is sent: nothing of a
// refused batch is written.
absl::Status CheckBatch(size_t keys, size_t bytes) {
  if (keys > kMaxBatchKeys) {
    return absl::InvalidArgumentError(absl::StrCat(
        "batch of ", keys, " keys is over the limit of ", kMaxBatchKeys));
  }
  if (bytes > kMaxBatchBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch of ", bytes, " bytes is over the limit of ",
                     kMaxBatchBytes, " (16 MiB)"));
  }
  return absl::OkStatus();
}

// CheckBatch() for a batch of keys alone, each a valid key.
absl::Status CheckKeys(const std::vector<std::string>& keys) {
  size_t bytes = 0;
  for (const std::string& key : keys) {
    RETURN_IF_ERROR(ValidateKey(key));
    bytes += key.size();
  }
  return CheckBatch(keys.size(), bytes);
}

// Starts `n` calls at once through `start(i, done)`; `finished` gets the
// results, result i call i's, once every `done` ran.
template <typename Result, typename Start>
void GatherAsync(
    size_t n, Start start,
    std::function<void(absl::StatusOr<std::vector<absl::StatusOr<Result>>>)>
        finished) {
  struct State {
    explicit State(size_t n)
        : results(n, absl::UnknownError("not answered")), left(n) {}
    std::vector<absl::StatusOr<Result>> results;
    std::atomic<size_t> left;
    std::function<void(absl::StatusOr<std::vector<absl::StatusOr<Result>>>)>
        finished;
  };
  if (n == 0) return finished(std::vector<absl::StatusOr<Result>>());
  auto state = std::make_shared<State>(n);
  state->finished = std::move(finished);
  for (size_t i = 0; i < n; ++i) {
    start(i, [state, i](absl::StatusOr<Result> result) {
      state->results[i] = std::move(result);
      if (state->left.fetch_sub(1) == 1) {
        state->finished(std::move(state->results));
      }
    });
  }
}

// GatherAsync(), waited for.
template <typename Result, typename Start>
std::vector<absl::StatusOr<Result>> Gather(size_t n, Start start) {
  absl::Notification done;
  std::vector<absl::StatusOr<Result>> results;
  GatherAsync<Result>(
      n, start,
      [&](absl::StatusOr<std::vector<absl::StatusOr<Result>>> all) {
        results = *std::move(all);
        done.Notify();
      });
  done.WaitForNotification();
  return results;
}

// The checks of BatchPut: nothing of a refused batch is sent.
absl::Status CheckItems(
    const std::vector<std::pair<std::string, std::string>>& items,
    const WriteOptions& options) {
  size_t bytes = 0;
  for (const auto& [key, value] : items) {
    RETURN_IF_ERROR(ValidateKey(key));
    RETURN_IF_ERROR(ValidateValue(value));
    bytes += key.size() + value.size();
  }
  RETURN_IF_ERROR(CheckBatch(items.size(), bytes));
  if (options.ttl < absl::ZeroDuration() ||
      options.ttl > absl::Milliseconds(kMaxTtlMs)) {
    return absl::InvalidArgumentError(
        absl::StrCat("TTL ", absl::FormatDuration(options.ttl),
                     " is outside 1ms .. 100 years"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<absl::StatusOr<ReadResult>>> Client::BatchGet(
    const std::vector<std::string>& keys, const RequestOptions& options) {
  RETURN_IF_ERROR(CheckKeys(keys));
  return Gather<ReadResult>(keys.size(), [&](size_t i, ReadCallback done) {
    GetAsync(keys[i], options, std::move(done));
  });
}

absl::StatusOr<std::vector<absl::StatusOr<WriteResult>>> Client::BatchPut(
    const std::vector<std::pair<std::string, std::string>>& items,
    const WriteOptions& options) {
  RETURN_IF_ERROR(CheckItems(items, options));
  return Gather<WriteResult>(items.size(), [&](size_t i, WriteCallback done) {
    PutAsync(items[i].first, items[i].second, options, std::move(done));
  });
}

void Client::BatchGetAsync(const std::vector<std::string>& keys,
                           const RequestOptions& options,
                           BatchReadCallback done) {
  if (absl::Status s = CheckKeys(keys); !s.ok()) {
    return impl_->CallBackSoon([done = std::move(done), s] { done(s); });
  }
  GatherAsync<ReadResult>(
      keys.size(),
      [&](size_t i, ReadCallback one) { GetAsync(keys[i], options, std::move(one)); },
      std::move(done));
}

void Client::BatchPutAsync(
    const std::vector<std::pair<std::string, std::string>>& items,
    const WriteOptions& options, BatchWriteCallback done) {
  if (absl::Status s = CheckItems(items, options); !s.ok()) {
    return impl_->CallBackSoon([done = std::move(done), s] { done(s); });
  }
  GatherAsync<WriteResult>(
      items.size(),
      [&](size_t i, WriteCallback one) {
        PutAsync(items[i].first, items[i].second, options, std::move(one));
      },
      std::move(done));
}

absl::StatusOr<std::vector<absl::StatusOr<WriteResult>>> Client::BatchDelete(
    const std::vector<std::string>& keys, const RequestOptions& options) {
  RETURN_IF_ERROR(CheckKeys(keys));
  return Gather<WriteResult>(keys.size(), [&](size_t i, WriteCallback done) {
    DeleteAsync(keys[i], options, std::move(done));
  });
}

absl::StatusOr<std::vector<absl::StatusOr<WriteResult>>> Client::Import(
    const std::vector<ImportRow>& rows, const RequestOptions& options) {
  size_t bytes = 0;
  std::vector<PutRequest> requests;
  requests.reserve(rows.size());
  for (const ImportRow& row : rows) {
    RETURN_IF_ERROR(ValidateKey(row.key));
    RETURN_IF_ERROR(ValidateValue(row.value));
    bytes += row.key.size() + row.value.size();
    PutRequest& request = requests.emplace_back();
    request.set_key(row.key);
    request.set_value(row.value);
    ASSIGN_OR_RETURN(*request.mutable_version(), ParseVersion(row.version));
    request.set_expires_at_ms(row.expires_at_ms);
    request.set_w(options.w != 0 ? options.w : impl_->options().w);
  }
  RETURN_IF_ERROR(CheckBatch(rows.size(), bytes));
  const absl::Time deadline =
      absl::Now() + (options.timeout > absl::ZeroDuration()
                         ? options.timeout
                         : impl_->options().timeout);
  return Gather<WriteResult>(requests.size(), [&](size_t i, WriteCallback done) {
    impl_->Submit(std::move(requests[i]), deadline,
                  [done = std::move(done)](absl::StatusOr<PutResponse> r) {
                    if (!r.ok()) return done(r.status());
                    done(WriteResult{VersionToString(r->version()), r->acks(),
                                     false});
                  });
  });
}

}  // namespace quorumkv
