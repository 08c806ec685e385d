#include "common/grpc_log.h"

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "common/logging.h"
#include "grpc/support/log.h"

namespace quorumkv {
namespace {

// How gRPC (over OpenSSL) reports a handshake that failed on our side.
constexpr absl::string_view kHandshakeFailed = "Handshake failed with fatal error";

void LogGrpcLine(gpr_log_func_args* args) {
  const absl::string_view message = args->message;
  if (absl::StrContains(message, kHandshakeFailed)) {
    QKV_LOG(WARNING)
        << "TLS: refused a connection whose handshake failed (a plaintext "
           "peer, or a certificate not signed by our ca.pem): "
        << message;
    return;
  }
  const LogSeverity severity = args->severity == GPR_LOG_SEVERITY_ERROR
                                   ? LogSeverity::ERROR
                                   : LogSeverity::INFO;
  LogMessage(args->file, args->line, severity).stream() << "grpc: " << message;
}

void DropLine(gpr_log_func_args*) {}

}  // namespace

void LogGrpcAsOurs() { gpr_set_log_function(&LogGrpcLine); }

void DropGrpcLog() { gpr_set_log_function(&DropLine); }

}  // namespace quorumkv
