#include "common/tls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"

namespace quorumkv {
namespace {

// OpenSSL objects freed when they go out of scope.
struct BioFree { void operator()(BIO* b) const { BIO_free(b); } };
struct X509Free { void operator()(X509* x) const { X509_free(x); } };
struct KeyFree { void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); } };
struct StoreFree { void operator()(X509_STORE* s) const { X509_STORE_free(s); } };
struct StoreCtxFree {
  void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

std::unique_ptr<BIO, BioFree> ReadOnlyBio(const std::string& pem) {
  return std::unique_ptr<BIO, BioFree>(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

X509Ptr ParseCertificate(const std::string& pem) {
  auto bio = ReadOnlyBio(pem);
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

// Checks that the files are what TLS needs, so that a wrong directory is
// refused at start with the reason instead of failing every handshake.
absl::Status CheckTlsFiles(const TlsConfig& tls, absl::string_view flag,
                           bool signed_by_ca) {
  auto bad = [&](absl::string_view file, absl::string_view why) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat(flag, "=", tls.dir, ": ", file, " ", why));
  };
  const X509Ptr ca = ParseCertificate(tls.ca);
  if (ca == nullptr) return bad("ca.pem", "is not a PEM certificate");
  const X509Ptr cert = ParseCertificate(tls.cert);
  if (cert == nullptr) return bad("cert.pem", "is not a PEM certificate");
  auto key_bio = ReadOnlyBio(tls.key);
  const std::unique_ptr<EVP_PKEY, KeyFree> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) {
    return bad("key.pem", "is not a PEM private key (or is encrypted)");
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return bad("key.pem", "is not the private key of cert.pem");
  }
  if (!signed_by_ca) return absl::OkStatus();
  const std::unique_ptr<X509_STORE, StoreFree> store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), ca.get());
  const std::unique_ptr<X509_STORE_CTX, StoreCtxFree> context(
      X509_STORE_CTX_new());
  X509_STORE_CTX_init(context.get(), store.get(), cert.get(), nullptr);
  if (X509_verify_cert(context.get()) != 1) {
    const int error = X509_STORE_CTX_get_error(context.get());
    return bad("cert.pem",
               absl::StrCat("does not verify against ca.pem: ",
                            X509_verify_cert_error_string(error)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<const TlsConfig>> LoadTlsDir(
    const std::string& dir, absl::string_view flag, bool signed_by_ca) {
  auto config = std::make_shared<TlsConfig>();
  config->dir = dir;
  struct File {
    const char* name;
    std::string* pem;
  };
  for (const File& file : {File{"ca.pem", &config->ca},
                           File{"cert.pem", &config->cert},
                           File{"key.pem", &config->key}}) {
    absl::StatusOr<std::string> text =
        ReadFileToString(absl::StrCat(dir, "/", file.name));
    if (!text.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          flag, "=", dir, ": ", file.name, ": ", text.status().message(),
          " (the directory must hold ca.pem, cert.pem and key.pem)"));
    }
    *file.pem = *std::move(text);
  }
  if (absl::Status checked = CheckTlsFiles(*config, flag, signed_by_ca); !checked.ok()) {
    return checked;
  }
  return std::shared_ptr<const TlsConfig>(std::move(config));
}

std::string ClientTlsDir(const std::string& flag_value) {
  if (!flag_value.empty()) return flag_value;
  const char* env = std::getenv("KV_TLS_DIR");
  return env == nullptr ? "" : env;
}

std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials(
    const TlsConfig* tls) {
  if (tls == nullptr) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = tls->ca;
  options.pem_key_cert_pairs.push_back({tls->key, tls->cert});
  return grpc::SslServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> MakeChannelCredentials(
    const TlsConfig* tls) {
  if (tls == nullptr) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = tls->ca;
  options.pem_private_key = tls->key;
  options.pem_cert_chain = tls->cert;
  return grpc::SslCredentials(options);
}

absl::Status UseTlsIdentity(const TlsConfig& tls, ssl_ctx_st* context) {
  const X509Ptr cert = ParseCertificate(tls.cert);
  auto key_bio = ReadOnlyBio(tls.key);
  const std::unique_ptr<EVP_PKEY, KeyFree> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (cert == nullptr || key == nullptr ||
      SSL_CTX_use_certificate(context, cert.get()) != 1 ||
      SSL_CTX_use_PrivateKey(context, key.get()) != 1) {
    ERR_clear_error();
    return absl::InternalError(absl::StrCat(
        "--tls_dir=", tls.dir, ": OpenSSL refused cert.pem or key.pem"));
  }
  return absl::OkStatus();
}

absl::Status RequireClientCertificates(const TlsConfig& tls,
                                       ssl_ctx_st* context) {
  const X509Ptr ca = ParseCertificate(tls.ca);
  if (ca == nullptr ||
      X509_STORE_add_cert(SSL_CTX_get_cert_store(context), ca.get()) != 1) {
    ERR_clear_error();
    return absl::InternalError(
        absl::StrCat("--tls_dir=", tls.dir, ": OpenSSL refused ca.pem"));
  }
  SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                     nullptr);
  return absl::OkStatus();
}

}  // namespace quorumkv
