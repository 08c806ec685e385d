// gRPC's own log lines (it writes them to standard error in a format of
// its own): a daemon routes them through our log, a command-line tool,
// whose every error is one line of its own, drops them.
#ifndef QUORUMKV_COMMON_GRPC_LOG_H_
#define QUORUMKV_COMMON_GRPC_LOG_H_

namespace quorumkv {

// Routes gRPC's log lines through QKV_LOG, and turns those of a failed TLS
// handshake into one clear line saying a connection was refused and why
// (a plaintext peer, or a certificate not signed by our CA). Process-wide;
// RunDaemon (common/process.h) calls it.
void LogGrpcAsOurs();

// Drops gRPC's log lines: the tool reports every failure itself, with
// gRPC's reason in it. Process-wide.
void DropGrpcLog();

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_GRPC_LOG_H_
