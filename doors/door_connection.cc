#include "doors/door_connection.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include <atomic>
#include <utility>

namespace quorumkv {
namespace {

std::atomic<uint64_t> next_connection_id{1};

}  // namespace

DoorConnection::DoorConnection(bufferevent* bev,
                               std::unique_ptr<DoorSession> session,
                               std::string peer,
                               std::function<void(DoorConnection*)> on_closed)
    : bev_(bev),
      session_(std::move(session)),
      peer_(std::move(peer)),
      id_(next_connection_id.fetch_add(1)),
      on_closed_(std::move(on_closed)),
      inbox_(std::make_shared<Inbox>()) {
  event* wake = event_new(bufferevent_get_base(bev_), -1, 0, &OnWake, this);
  absl::MutexLock lock(&inbox_->mu);
  inbox_->wake = wake;
}

DoorConnection::~DoorConnection() {
  if (!closed_) {
    // The server is going away with the connection still open.
    {
      absl::MutexLock lock(&inbox_->mu);
      inbox_->closed = true;
      event_free(inbox_->wake);
      inbox_->wake = nullptr;
    }
    bufferevent_free(bev_);
  }
}

void DoorConnection::Start() {
  bufferevent_setcb(bev_, &OnRead, &OnWrite, &OnEvent, this);
  // Never read more than one largest request ahead: the rest waits in the
  // kernel, where the client's sends block.
  bufferevent_setwatermark(bev_, EV_READ, 0, kMaxInputBytes);
  UpdateReading();
}

void DoorConnection::OnRead(bufferevent*, void* self) {
  static_cast<DoorConnection*>(self)->ReadInput();
}

void DoorConnection::OnWrite(bufferevent*, void* self) {
  auto* c = static_cast<DoorConnection*>(self);
  if (c->closed_) return;
  // The client read what was written: maybe there is room to read again,
  // or the last reply before a close has left.
  c->Flush();
}

void DoorConnection::OnEvent(bufferevent*, short what, void* self) {
  auto* c = static_cast<DoorConnection*>(self);
  if (c->closed_) return;
  if (what & BEV_EVENT_EOF) {
    // The client is done sending: answer what it sent, then close.
    c->CloseAfterReplies();
    return;
  }
  if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) c->Close();
}

void DoorConnection::OnWake(int, short, void* self) {
  auto* c = static_cast<DoorConnection*>(self);
  c->Drain();
  if (!c->closed_ && c->reading_ &&
      evbuffer_get_length(bufferevent_get_input(c->bev_)) > 0) {
    c->ReadInput();
  }
}

void DoorConnection::ReadInput() {
  if (closed_ || closing_ || in_input_) return;
  in_input_ = true;
  session_->OnInput(bufferevent_get_input(bev_), *this);
  in_input_ = false;
  Drain();
}

bool DoorConnection::Full() const {
  return closing_ || waiting_.size() + slots_.size() >= kMaxQueuedCommands ||
         evbuffer_get_length(bufferevent_get_output(bev_)) >= kMaxOutputBytes;
}

void DoorConnection::Submit(std::vector<std::string> keys, bool barrier,
                            std::function<void(Reply)> run) {
  if (closed_) return;
  const uint64_t slot = next_slot_++;
  slots_.emplace_back();
  waiting_.push_back(Pending{std::move(keys), barrier, std::move(run), slot});
  StartReady();
}

void DoorConnection::Answer(std::string bytes) {
  if (closed_) return;
  ++next_slot_;
  slots_.emplace_back(std::move(bytes));
  if (waiting_.empty() && started_keys_.empty()) Flush();
}

void DoorConnection::CloseAfterReplies() {
  if (closed_) return;
  closing_ = true;
  UpdateReading();
  Flush();
}

void DoorConnection::StartReady() {
  while (!waiting_.empty() && !closed_) {
    Pending& next = waiting_.front();
    if (barrier_running_) return;
    if (next.barrier && !started_keys_.empty()) return;
    for (const std::string& key : next.keys) {
      if (busy_keys_.contains(key)) return;
    }
    Pending started = std::move(next);
    waiting_.pop_front();
    for (const std::string& key : started.keys) ++busy_keys_[key];
    if (started.barrier) barrier_running_ = true;
    started_keys_[started.slot] = {std::move(started.keys), started.barrier};
    started.run(MakeReply(started.slot));
  }
}

Reply DoorConnection::MakeReply(uint64_t slot) {
  return [inbox = inbox_, slot](std::string bytes) {
    absl::MutexLock lock(&inbox->mu);
    if (inbox->closed) return;
    // Replies already waiting have woken the loop, which takes them all:
    // under load most replies cost no wake-up.
    const bool wake = inbox->replies.empty();
    inbox->replies.emplace_back(slot, std::move(bytes));
    if (wake) event_active(inbox->wake, 0, 0);
  };
}

void DoorConnection::Drain() {
  if (closed_) return;
  std::vector<std::pair<uint64_t, std::string>> replies;
  {
    absl::MutexLock lock(&inbox_->mu);
    replies.swap(inbox_->replies);
  }
  for (auto& [slot, bytes] : replies) {
    slots_[slot - first_slot_] = std::move(bytes);
    auto started = started_keys_.find(slot);
    if (started == started_keys_.end()) continue;
    for (const std::string& key : started->second.keys) {
      auto busy = busy_keys_.find(key);
      if (--busy->second == 0) busy_keys_.erase(busy);
    }
    if (started->second.barrier) barrier_running_ = false;
    started_keys_.erase(started);
  }
  StartReady();
  Flush();
}

void DoorConnection::Flush() {
  if (closed_) return;
  evbuffer* output = bufferevent_get_output(bev_);
  while (!slots_.empty() && slots_.front().has_value()) {
    evbuffer_add(output, slots_.front()->data(), slots_.front()->size());
    slots_.pop_front();
    ++first_slot_;
  }
  if (closing_ && slots_.empty()) {
    if (evbuffer_get_length(output) == 0) Close();
    return;  // OnWrite comes back once the output has left
  }
  UpdateReading();
}

void DoorConnection::UpdateReading() {
  if (closed_) return;
  const bool want = !Full();
  if (want == reading_) return;
  reading_ = want;
  if (want) {
    bufferevent_enable(bev_, EV_READ);
    // Requests may wait in the input already: go on with them on the next
    // turn of the loop rather than when the next byte arrives.
    if (evbuffer_get_length(bufferevent_get_input(bev_)) > 0) {
      absl::MutexLock lock(&inbox_->mu);
      event_active(inbox_->wake, 0, 0);
    }
  } else {
    bufferevent_disable(bev_, EV_READ);
  }
}

void DoorConnection::Close() {
  if (closed_) return;
  closed_ = true;
  event_base* base = bufferevent_get_base(bev_);
  {
    absl::MutexLock lock(&inbox_->mu);
    inbox_->closed = true;
    event_free(inbox_->wake);
    inbox_->wake = nullptr;
  }
  bufferevent_free(bev_);
  // Forgotten (and destroyed) on the next turn of the loop, once no
  // callback of this connection is on the stack.
  event_base_once(
      base, -1, EV_TIMEOUT,
      [](int, short, void* self) {
        auto* c = static_cast<DoorConnection*>(self);
        c->on_closed_(c);
      },
      this, nullptr);
}

}  // namespace quorumkv
