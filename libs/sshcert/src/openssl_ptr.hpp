/// @file openssl_ptr.hpp (private)
/// @brief Owning pointers for the OpenSSL objects the library uses, so every error path frees.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include <memory>

namespace moneta::sshcert::detail {

template <class T, void (*Free)(T*)>
struct OpensslFree {
    void operator()(T* p) const noexcept { Free(p); }
};

using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OpensslFree<EVP_PKEY, EVP_PKEY_free>>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, OpensslFree<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, OpensslFree<EVP_MD_CTX, EVP_MD_CTX_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, OpensslFree<BIGNUM, BN_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, OpensslFree<ECDSA_SIG, ECDSA_SIG_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, OpensslFree<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, OpensslFree<OSSL_PARAM, OSSL_PARAM_free>>;
using X509SigPtr = std::unique_ptr<X509_SIG, OpensslFree<X509_SIG, X509_SIG_free>>;
using P8InfoPtr = std::unique_ptr<PKCS8_PRIV_KEY_INFO, OpensslFree<PKCS8_PRIV_KEY_INFO, PKCS8_PRIV_KEY_INFO_free>>;
using X509AlgorPtr = std::unique_ptr<X509_ALGOR, OpensslFree<X509_ALGOR, X509_ALGOR_free>>;

/// BIO_free returns int; wrap it for unique_ptr.
inline void bio_free(BIO* b) { BIO_free(b); }
using BioPtr = std::unique_ptr<BIO, OpensslFree<BIO, bio_free>>;

/// A shared owner of @p p (PublicKey copies share one immutable key).
inline std::shared_ptr<EVP_PKEY> share(EvpPkeyPtr p) { return {p.release(), EVP_PKEY_free}; }

}  // namespace moneta::sshcert::detail
