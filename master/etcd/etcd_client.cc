#include "master/etcd/etcd_client.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/address.h"
#include "common/grpc_util.h"
#include "common/logging.h"
#include "common/rpc_status.h"

namespace quorumkv {
namespace {

using etcdserverpb::Event;
using etcdserverpb::RangeRequest;
using etcdserverpb::RangeResponse;
using etcdserverpb::WatchRequest;
using etcdserverpb::WatchResponse;

// Another member may serve where this one could not: it is down, cut off
// from etcd's quorum ("etcdserver: request timed out", "no leader"), or
// slow.
bool TryAnotherMember(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status);
}

constexpr absl::Duration kWatchFirstBackoff = absl::Milliseconds(50);
constexpr absl::Duration kWatchMaxBackoff = absl::Seconds(1);
constexpr absl::Duration kReadAllTimeout = absl::Seconds(5);

}  // namespace

std::string PrefixEnd(absl::string_view prefix) {
  std::string end(prefix);
  // The first key past every key that starts with `prefix`: the prefix with
  // its last byte that can grow grown by one.
  while (!end.empty()) {
    unsigned char& last = reinterpret_cast<unsigned char&>(end.back());
    if (last < 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key
}

absl::StatusOr<std::unique_ptr<EtcdClient>> EtcdClient::Create(
    absl::string_view endpoints) {
  absl::StatusOr<std::vector<std::string>> addresses =
      ParseAddressList("--etcd", endpoints);
  if (!addresses.ok()) return addresses.status();
  std::unique_ptr<EtcdClient> client(
      new EtcdClient(absl::StrJoin(*addresses, ",")));
  for (const std::string& address : *addresses) {
    // etcd's own messages are small; plaintext on the masters' network.
    std::shared_ptr<grpc::Channel> channel = MakeChannel(address);
    client->members_.push_back({address, etcdserverpb::KV::NewStub(channel),
                                etcdserverpb::Lease::NewStub(channel),
                                etcdserverpb::Watch::NewStub(channel)});
  }
  return client;
}

template <typename Response>
absl::StatusOr<Response> EtcdClient::OnAnyMember(
    absl::string_view what, absl::Duration timeout,
    const std::function<grpc::Status(Member&, grpc::ClientContext*,
                                     Response*)>& call) {
  std::vector<std::string> failures;
  const size_t first = preferred_.load();
  for (size_t k = 0; k < members_.size(); ++k) {
    const size_t i = (first + k) % members_.size();
    grpc::ClientContext context;
    SetTimeout(context, timeout);
    Response response;
    absl::Status status = FromGrpcStatus(call(members_[i], &context, &response));
    if (status.ok()) {
      preferred_ = i;
      return response;
    }
    if (!TryAnotherMember(status)) {
      return absl::Status(status.code(),
                          absl::StrCat("etcd ", members_[i].address, ": ",
                                       what, ": ", status.message()));
    }
    failures.push_back(absl::StrCat(members_[i].address, ": ",
                                    status.message()));
  }
  return absl::UnavailableError(absl::StrCat(
      "etcd (", list_, ") could not ", what, ": ",
      absl::StrJoin(failures, "; ")));
}

absl::StatusOr<RangeResponse> EtcdClient::Range(const RangeRequest& request,
                                                absl::Duration timeout) {
  return OnAnyMember<RangeResponse>(
      "read", timeout,
      [&](Member& m, grpc::ClientContext* context, RangeResponse* response) {
        return m.kv->Range(context, request, response);
      });
}

absl::StatusOr<etcdserverpb::TxnResponse> EtcdClient::Txn(
    const etcdserverpb::TxnRequest& request, absl::Duration timeout) {
  return OnAnyMember<etcdserverpb::TxnResponse>(
      "write", timeout,
      [&](Member& m, grpc::ClientContext* context,
          etcdserverpb::TxnResponse* response) {
        return m.kv->Txn(context, request, response);
      });
}

absl::StatusOr<etcdserverpb::LeaseGrantResponse> EtcdClient::LeaseGrant(
    absl::Duration ttl, absl::Duration timeout) {
  etcdserverpb::LeaseGrantRequest request;
  request.set_ttl(std::max<int64_t>(1, absl::ToInt64Seconds(ttl)));
  absl::StatusOr<etcdserverpb::LeaseGrantResponse> response =
      OnAnyMember<etcdserverpb::LeaseGrantResponse>(
          "grant a lease", timeout,
          [&](Member& m, grpc::ClientContext* context,
              etcdserverpb::LeaseGrantResponse* r) {
            return m.lease->LeaseGrant(context, request, r);
          });
  if (response.ok() && !response->error().empty()) {
    return absl::UnavailableError(
        absl::StrCat("etcd refused a lease: ", response->error()));
  }
  return response;
}

absl::Status EtcdClient::LeaseRevoke(int64_t id, absl::Duration timeout) {
  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(id);
  return OnAnyMember<etcdserverpb::LeaseRevokeResponse>(
             "revoke a lease", timeout,
             [&](Member& m, grpc::ClientContext* context,
                 etcdserverpb::LeaseRevokeResponse* r) {
               return m.lease->LeaseRevoke(context, request, r);
             })
      .status();
}

absl::StatusOr<etcdserverpb::LeaseKeepAliveResponse> EtcdClient::KeepAlive(
    int64_t id, absl::Duration timeout) {
  absl::StatusOr<etcdserverpb::LeaseKeepAliveResponse> response =
      OnAnyMember<etcdserverpb::LeaseKeepAliveResponse>(
          "renew a lease", timeout,
          [&](Member& m, grpc::ClientContext* context,
              etcdserverpb::LeaseKeepAliveResponse* r) {
            auto stream = m.lease->LeaseKeepAlive(context);
            etcdserverpb::LeaseKeepAliveRequest request;
            request.set_id(id);
            if (stream->Write(request) && stream->Read(r)) {
              stream->WritesDone();
              context->TryCancel();
              stream->Finish().IgnoreError();
              return grpc::Status::OK;
            }
            return stream->Finish();
          });
  if (response.ok() && response->ttl() <= 0) {
    return absl::NotFoundError(
        absl::StrCat("etcd lease ", id, " has expired"));
  }
  return response;
}

std::unique_ptr<EtcdClient::Watcher> EtcdClient::Watch(
    std::string prefix, int64_t start_revision, Watcher::OnEvents on_events) {
  return std::unique_ptr<Watcher>(
      new Watcher(this, std::move(prefix), start_revision, std::move(on_events)));
}

EtcdClient::Watcher::Watcher(EtcdClient* client, std::string prefix,
                             int64_t start_revision, OnEvents on_events)
    : client_(client),
      prefix_(std::move(prefix)),
      on_events_(std::move(on_events)),
      start_revision_(start_revision),
      thread_([this] { Loop(); }) {}

EtcdClient::Watcher::~Watcher() { Stop(); }

void EtcdClient::Watcher::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (active_ != nullptr) active_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

bool EtcdClient::Watcher::ReadAll(int64_t* next_revision) {
  RangeRequest request;
  request.set_key(prefix_);
  request.set_range_end(PrefixEnd(prefix_));
  absl::StatusOr<RangeResponse> all = client_->Range(request, kReadAllTimeout);
  if (!all.ok()) {
    QKV_LOG(WARNING) << "cannot read " << prefix_ << " from etcd: "
                     << all.status().message();
    return false;
  }
  std::vector<Event> events;
  for (const etcdserverpb::KeyValue& kv : all->kvs()) {
    Event& event = events.emplace_back();
    event.set_type(Event::PUT);
    *event.mutable_kv() = kv;
  }
  on_events_(events, all->header().revision(), /*reset=*/true);
  *next_revision = all->header().revision() + 1;
  return true;
}

void EtcdClient::Watcher::Loop() {
  int64_t next = start_revision_;
  absl::Duration backoff = kWatchFirstBackoff;
  size_t member = client_->preferred_.load();
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    bool progressed = false;
    if (next > 0 || ReadAll(&next)) {
      grpc::ClientContext context;
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) return;
        active_ = &context;
      }
      auto stream = client_->members_[member].watch->Watch(&context);
      WatchRequest request;
      etcdserverpb::WatchCreateRequest* create = request.mutable_create_request();
      create->set_key(prefix_);
      create->set_range_end(PrefixEnd(prefix_));
      create->set_start_revision(next);
      create->set_progress_notify(true);
      WatchResponse response;
      if (stream->Write(request)) {
        while (stream->Read(&response)) {
          if (response.compact_revision() > 0) {
            // What changed since `next` is gone: read everything again.
            next = 0;
            break;
          }
          if (response.canceled()) break;
          if (response.events_size() > 0) {
            std::vector<Event> events(response.events().begin(),
                                      response.events().end());
            on_events_(events, response.header().revision(), false);
            next = response.header().revision() + 1;
          }
          progressed = true;
          backoff = kWatchFirstBackoff;
        }
      }
      context.TryCancel();
      stream->Finish().IgnoreError();
      absl::MutexLock lock(&mu_);
      active_ = nullptr;
      if (stopping_) return;
    }
    if (!progressed) {
      // This member cannot serve the watch: the next one, after a pause.
      member = (member + 1) % client_->members_.size();
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), backoff);
      backoff = std::min(backoff * 2, kWatchMaxBackoff);
    }
  }
}

}  // namespace quorumkv
