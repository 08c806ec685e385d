#include "doors/read_modify_write.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace quorumkv {
namespace {

class Rmw : public std::enable_shared_from_this<Rmw> {
 public:
  Rmw(KvGateway* gateway, std::string key,
      std::function<RowChange(const CurrentRow&)> decide,
      std::function<void(absl::StatusOr<RmwResult>)> done)
      : gateway_(gateway),
        key_(std::move(key)),
        decide_(std::move(decide)),
        done_(std::move(done)) {}

  void Start() {
    GetRequest get;
    get.set_key(key_);
    auto self = shared_from_this();
    gateway_->Call(std::move(get), [self](absl::StatusOr<GetResponse> got) {
      CurrentRow row;
      if (got.ok()) {
        row.found = true;
        row.value = std::move(*got->mutable_value());
        row.version = got->version();
        row.expires_at_ms = got->expires_at_ms();
      } else if (!absl::IsNotFound(got.status())) {
        return self->done_(got.status());
      }
      self->Decide(std::move(row));
    });
  }

 private:
  void Decide(CurrentRow row) {
    RowChange change = decide_(row);
    if (change.kind == RowChange::kLeave) {
      RmwResult result;
      result.before = std::move(row);
      return done_(std::move(result));
    }
    if (++attempts_ > kMaxRmwAttempts) {
      return done_(absl::AbortedError(absl::StrCat(
          "the key changed under ", kMaxRmwAttempts,
          " attempts in a row; try again")));
    }
    CasRequest cas;
    cas.set_key(key_);
    cas.set_any_key(true);
    if (row.found) {
      *cas.mutable_if_version() = row.version;
    } else {
      cas.set_if_absent(true);
    }
    if (change.kind == RowChange::kDelete) {
      cas.set_delete_(true);
    } else {
      cas.set_value(std::move(change.value));
      if (change.expires_at_ms > 0) {
        const int64_t left = change.expires_at_ms - absl::ToUnixMillis(absl::Now());
        // A kept expiry that has just passed: the shortest one left.
        cas.set_ttl_ms(left > 0 ? static_cast<uint64_t>(left) : 1);
      }
    }
    auto self = shared_from_this();
    gateway_->Call(std::move(cas), [self, row = std::move(row)](
                                       absl::StatusOr<CasResponse> answer) mutable {
      if (!answer.ok()) return self->done_(answer.status());
      if (answer->applied()) {
        RmwResult result;
        result.before = std::move(row);
        result.applied = true;
        result.version = answer->version();
        return self->done_(std::move(result));
      }
      // Another write came first: decide again on the row it left.
      CurrentRow now;
      now.found = answer->found();
      now.value = std::move(*answer->mutable_value());
      now.version = answer->version();
      now.expires_at_ms = answer->expires_at_ms();
      self->Decide(std::move(now));
    });
  }

  KvGateway* const gateway_;
  const std::string key_;
  const std::function<RowChange(const CurrentRow&)> decide_;
  const std::function<void(absl::StatusOr<RmwResult>)> done_;
  int attempts_ = 0;
};

}  // namespace

void ReadModifyWrite(KvGateway* gateway, std::string key,
                     std::function<RowChange(const CurrentRow&)> decide,
                     std::function<void(absl::StatusOr<RmwResult>)> done) {
  std::make_shared<Rmw>(gateway, std::move(key), std::move(decide),
                        std::move(done))
      ->Start();
}

}  // namespace quorumkv
