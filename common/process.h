// Process-level helpers shared by the daemons' thin mains.
#ifndef QUORUMKV_COMMON_PROCESS_H_
#define QUORUMKV_COMMON_PROCESS_H_

#include <functional>
#include <string>
#include <vector>

namespace quorumkv {

// Parses absl flags of a daemon; exits 2 with a message naming them when
// there are positional arguments (a daemon takes flags only).
void ParseDaemonFlags(int argc, char** argv, const char* usage);

// Blocks SIGINT and SIGTERM in every thread started after this call and
// runs `on_signal` once, on a thread of its own, when one arrives. Call
// before starting any other thread.
void OnTerminationSignal(std::function<void()> on_signal);

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_PROCESS_H_
