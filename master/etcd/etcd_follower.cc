#include "master/etcd/etcd_follower.h"

#include <utility>

#include "common/logging.h"

namespace quorumkv {
namespace {

constexpr absl::Duration kCatchUpInterval = absl::Seconds(3);

}  // namespace

EtcdFollower::EtcdFollower(EtcdClient* etcd, const EtcdStore* store,
                           DirectoryManager* directory, Membership* membership,
                           LeaderElection* election)
    : etcd_(etcd),
      store_(store),
      directory_(directory),
      membership_(membership),
      election_(election),
      catch_up_([this] { return CatchUp(); }) {}

EtcdFollower::~EtcdFollower() { Stop(); }

void EtcdFollower::Start() {
  watcher_ = etcd_->Watch(
      store_->prefix() + "/", /*start_revision=*/0,
      [this](const std::vector<etcdserverpb::Event>& events, int64_t,
             bool reset) { OnEvents(events, reset); });
  catch_up_.Start();
}

void EtcdFollower::Stop() {
  catch_up_.Stop();
  if (watcher_ != nullptr) watcher_->Stop();
}

void EtcdFollower::FollowDirectory(absl::string_view value) {
  absl::StatusOr<Directory> directory = EtcdStore::DecodeDirectory(value);
  if (!directory.ok()) {
    QKV_LOG(ERROR) << directory.status().message();
    return;
  }
  // A standby knows every node the leader registered, so that it can say
  // what state each is in.
  for (const NodeDescriptor& node : directory->nodes()) {
    membership_->AddKnown(node);
  }
  directory_->Follow(*std::move(directory));
}

void EtcdFollower::OnEvents(const std::vector<etcdserverpb::Event>& events,
                            bool reset) {
  bool leader_seen = false;
  for (const etcdserverpb::Event& event : events) {
    const std::string& key = event.kv().key();
    const bool put = event.type() == etcdserverpb::Event::PUT;
    if (key == store_->leader_key()) {
      leader_seen |= put;
      if (!put) election_->Wake();  // the leader is gone: campaign now
    } else if (key == store_->directory_key() && put) {
      FollowDirectory(event.kv().value());
      followed_revision_ = event.kv().mod_revision();
    } else if (key == store_->states_key() && put &&
               !election_->IsLeader()) {
      NodeStates states;
      if (states.ParseFromString(event.kv().value())) {
        membership_->Follow(states);
      }
    }
  }
  if (reset && !leader_seen) election_->Wake();
}

absl::Duration EtcdFollower::CatchUp() {
  if (election_->IsLeader()) return kCatchUpInterval;
  // Only the revision first: the directory itself only when it is newer
  // than what the watch brought.
  etcdserverpb::RangeRequest request;
  request.set_key(store_->directory_key());
  request.set_keys_only(true);
  absl::StatusOr<etcdserverpb::RangeResponse> head =
      etcd_->Range(request, absl::Seconds(2));
  if (!head.ok() || head->kvs_size() == 0 ||
      head->kvs(0).mod_revision() <= followed_revision_.load()) {
    return kCatchUpInterval;
  }
  request.set_keys_only(false);
  absl::StatusOr<etcdserverpb::RangeResponse> response =
      etcd_->Range(request, absl::Seconds(2));
  if (response.ok() && response->kvs_size() > 0) {
    FollowDirectory(response->kvs(0).value());
    followed_revision_ = response->kvs(0).mod_revision();
  }
  return kCatchUpInterval;
}

}  // namespace quorumkv
