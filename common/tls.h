// Mutual TLS (docs/operations.md, "TLS"): what a --tls_dir holds and the
// gRPC credentials made from it.
//
// A TLS directory holds three PEM files: `ca.pem`, the certificate
// authority every peer's certificate must be signed by; `cert.pem`, this
// process's own certificate (signed by that CA); `key.pem`, its private key.
// With them every gRPC connection of the process is mutual TLS: a server
// asks each client for a certificate signed by the CA and refuses
// connections that bring none or another CA's; a client checks the
// server's certificate the same way, and its name (or IP address) against
// the address it dialled.
//
// Thread safety: a TlsConfig is immutable once loaded.
#ifndef QUORUMKV_COMMON_TLS_H_
#define QUORUMKV_COMMON_TLS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace quorumkv {

struct TlsConfig {
  std::string dir;   // where the files came from, for messages
  std::string ca;    // PEM of ca.pem
  std::string cert;  // PEM of cert.pem
  std::string key;   // PEM of key.pem
};

// Reads and checks DIR/ca.pem, cert.pem and key.pem: each must be PEM and
// the key must belong to the certificate; with `signed_by_ca` (a daemon's,
// whose peers check it against the same CA) the certificate must also be
// signed by ca.pem and valid now. A client's may come from another CA the
// cluster trusts. INVALID_ARGUMENT naming `flag`, the file and what is
// wrong otherwise.
absl::StatusOr<std::shared_ptr<const TlsConfig>> LoadTlsDir(
    const std::string& dir, absl::string_view flag = "--tls_dir",
    bool signed_by_ca = true);

// The TLS directory a client tool uses: `flag_value` when not empty, else
// $KV_TLS_DIR; empty (plaintext) when neither is set.
std::string ClientTlsDir(const std::string& flag_value);

// Server credentials: mutual TLS requiring a client certificate signed by
// the CA with `tls`, plaintext when null.
std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials(
    const TlsConfig* tls);
// Channel credentials: mutual TLS presenting cert.pem with `tls`,
// plaintext when null.
std::shared_ptr<grpc::ChannelCredentials> MakeChannelCredentials(
    const TlsConfig* tls);

// Makes an OpenSSL context present `tls`'s certificate and key (the HTTPS
// endpoints, whose server hands us its context). INTERNAL when OpenSSL
// refuses them; LoadTlsDir has checked them already.
absl::Status UseTlsIdentity(const TlsConfig& tls, ssl_ctx_st* context);
// Makes a server's OpenSSL context ask every client for a certificate
// signed by `tls`'s CA and refuse the handshake without one (the front
// doors: mutual TLS, as on gRPC). INTERNAL when OpenSSL refuses the CA.
absl::Status RequireClientCertificates(const TlsConfig& tls,
                                       ssl_ctx_st* context);

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_TLS_H_
