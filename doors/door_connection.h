// One client connection of a front door (doors/door_server.h): what a
// protocol session (RESP, memcached) needs from it, written once.
//
//  - Replies leave in the order the commands arrived, whatever order their
//    answers come back in (pipelining).
//  - A command starts only once no earlier unanswered command names one of
//    its keys (a pipelined SET then GET of one key sees the SET); commands
//    on other keys run side by side. A barrier command (SCAN, DBSIZE) waits
//    for every earlier one.
//  - Bounded memory: while kMaxQueuedCommands commands wait for their
//    replies, or kMaxOutputBytes of replies wait for the client to read
//    them, the connection stops reading; a client that stops reading
//    cannot grow the node's memory.
//
// Threads: everything runs on the door's loop thread except a Reply, which
// may be called once from any thread (a gRPC callback); it wakes the loop.
// The connection is owned by the server; a Reply that outlives it is
// dropped.
#ifndef QUORUMKV_DOORS_DOOR_CONNECTION_H_
#define QUORUMKV_DOORS_DOOR_CONNECTION_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

struct bufferevent;
struct evbuffer;
struct event;

namespace quorumkv {

class DoorConnection;

// What a protocol does with one connection's bytes. Runs on the loop
// thread.
class DoorSession {
 public:
  virtual ~DoorSession() = default;
  // Consumes whole requests from the front of `input` and submits them;
  // stops early (leaving the rest) when `connection.Full()`, and is called
  // again once there is room.
  virtual void OnInput(evbuffer* input, DoorConnection& connection) = 0;
};

// Delivers a command's reply bytes; call exactly once, from any thread.
using Reply = std::function<void(std::string bytes)>;

class DoorConnection {
 public:
  static constexpr size_t kMaxQueuedCommands = 1024;
  static constexpr size_t kMaxOutputBytes = 8 << 20;
  // Input read ahead of the parser: more than the largest request (a 4 MiB
  // value and its key), so that one always fits.
  static constexpr size_t kMaxInputBytes = 8 << 20;

  // Takes `bev` (a connected, possibly TLS, bufferevent on the loop's
  // base). `on_closed` runs on the loop thread once the connection is
  // gone, for the server to forget it.
  DoorConnection(bufferevent* bev, std::unique_ptr<DoorSession> session,
                 std::string peer, std::function<void(DoorConnection*)> on_closed);
  ~DoorConnection();
  DoorConnection(const DoorConnection&) = delete;
  DoorConnection& operator=(const DoorConnection&) = delete;

  // Starts reading.
  void Start();

  // Queues a command. `run(reply)` is called on the loop thread once the
  // command may start (see above) and must call `reply` once. `keys` are
  // the keys it reads or writes; `barrier` makes it wait for every earlier
  // command.
  void Submit(std::vector<std::string> keys, bool barrier,
              std::function<void(Reply)> run);
  // A reply that needs no waiting, in its place after earlier ones.
  void Answer(std::string bytes);
  // Closes the connection once every queued reply is written (QUIT, or a
  // protocol error after its message); nothing more is read.
  void CloseAfterReplies();
  // Whether the session should stop submitting for now.
  bool Full() const;
  // The client's address, for logs.
  const std::string& peer() const { return peer_; }
  // A small number unique within the process (CLIENT ID).
  uint64_t id() const { return id_; }

 private:
  struct Pending {
    std::vector<std::string> keys;
    bool barrier = false;
    std::function<void(Reply)> run;
    uint64_t slot = 0;
  };
  // What replies from other threads go through; outlives the connection
  // while a Reply holds it.
  struct Inbox {
    absl::Mutex mu;
    bool closed ABSL_GUARDED_BY(mu) = false;
    event* wake ABSL_GUARDED_BY(mu) = nullptr;
    std::vector<std::pair<uint64_t, std::string>> replies ABSL_GUARDED_BY(mu);
  };

  static void OnRead(bufferevent* bev, void* self);
  static void OnWrite(bufferevent* bev, void* self);
  static void OnEvent(bufferevent* bev, short what, void* self);
  static void OnWake(int fd, short what, void* self);

  void ReadInput();
  // Starts the queued commands that may start now, in order.
  void StartReady();
  // Moves answered replies from the inbox into their slots and writes the
  // answered front of the queue.
  void Drain();
  void Flush();
  void UpdateReading();
  void Close();
  Reply MakeReply(uint64_t slot);

  bufferevent* const bev_;
  const std::unique_ptr<DoorSession> session_;
  const std::string peer_;
  const uint64_t id_;
  std::function<void(DoorConnection*)> on_closed_;
  const std::shared_ptr<Inbox> inbox_;

  // Loop thread only.
  uint64_t next_slot_ = 0;             // the next command's place
  uint64_t first_slot_ = 0;            // the oldest unwritten reply's
  std::deque<std::optional<std::string>> slots_;  // from first_slot_ on
  std::deque<Pending> waiting_;        // queued, not started
  absl::flat_hash_map<std::string, int> busy_keys_;  // started, unanswered
  struct Started {
    std::vector<std::string> keys;
    bool barrier = false;
  };
  absl::flat_hash_map<uint64_t, Started> started_keys_;
  bool barrier_running_ = false;       // a started barrier is unanswered
  bool closing_ = false;               // CloseAfterReplies() was called
  bool reading_ = false;
  bool in_input_ = false;              // inside session_->OnInput
  bool closed_ = false;
};

}  // namespace quorumkv

#endif  // QUORUMKV_DOORS_DOOR_CONNECTION_H_
