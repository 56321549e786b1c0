// OpenSSL's low-level SHA256_Init/Update/Final, deprecated in 3.0 but kept, run the digest
// directly. The EVP and HMAC() interfaces first set up OpenSSL 3's provider machinery, which
// costs the long-lived daemon 2.3 MB of resident memory for one check (docs/benchmarks.md),
// and a lookup for every digest of a plan's thousands of short fields.
#define OPENSSL_API_COMPAT 10101
#include "util/sha256.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>

namespace podcd {
namespace {

std::string_view Bytes(const Sha256Digest& d) { return {reinterpret_cast<const char*>(d.data()), d.size()}; }

}  // namespace

void Sha256::Deleter::operator()(SHA256state_st* ctx) const noexcept {
  OPENSSL_cleanse(ctx, sizeof *ctx);
  delete ctx;  // NOLINT(cppcoreguidelines-owning-memory): held by the unique_ptr only
}

Sha256::Sha256() : ctx_(new SHA256_CTX{}) { SHA256_Init(ctx_.get()); }

void Sha256::Update(std::string_view bytes) { SHA256_Update(ctx_.get(), bytes.data(), bytes.size()); }

std::string Sha256::HexDigest() {
  Sha256Digest out{};
  SHA256_Final(out.data(), ctx_.get());
  return HexEncode(Bytes(out));
}

std::string Sha256Hex(std::string_view bytes) {
  Sha256Digest out{};
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), out.data());
  return HexEncode(Bytes(out));
}

Sha256Digest HmacSha256(std::string_view key, std::string_view body) {
  constexpr std::size_t kBlock = SHA256_CBLOCK;
  std::array<unsigned char, kBlock> k{};
  SHA256_CTX ctx;
  if (key.size() > kBlock) {  // a long key is hashed first
    SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), k.data());
  } else {
    std::copy(key.begin(), key.end(), k.begin());
  }
  std::array<unsigned char, kBlock> pad{};
  Sha256Digest inner{};
  for (std::size_t i = 0; i < kBlock; ++i) pad[i] = static_cast<unsigned char>(k[i] ^ 0x36);
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, pad.data(), kBlock);
  SHA256_Update(&ctx, body.data(), body.size());
  SHA256_Final(inner.data(), &ctx);
  Sha256Digest out{};
  for (std::size_t i = 0; i < kBlock; ++i) pad[i] = static_cast<unsigned char>(k[i] ^ 0x5c);
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, pad.data(), kBlock);
  SHA256_Update(&ctx, inner.data(), kSha256Size);
  SHA256_Final(out.data(), &ctx);
  OPENSSL_cleanse(k.data(), kBlock);
  OPENSSL_cleanse(pad.data(), kBlock);
  OPENSSL_cleanse(&ctx, sizeof ctx);
  return out;
}

struct HmacSha256Key::Pads {
  SHA256_CTX inner{};
  SHA256_CTX outer{};
  ~Pads() {
    OPENSSL_cleanse(&inner, sizeof inner);
    OPENSSL_cleanse(&outer, sizeof outer);
  }
};

HmacSha256Key::HmacSha256Key(std::string_view key) {
  constexpr std::size_t kBlock = SHA256_CBLOCK;
  std::array<unsigned char, kBlock> k{};
  if (key.size() > kBlock) {
    SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), k.data());
  } else {
    std::copy(key.begin(), key.end(), k.begin());
  }
  auto pads = std::make_shared<Pads>();
  std::array<unsigned char, kBlock> pad{};
  for (std::size_t i = 0; i < kBlock; ++i) pad[i] = static_cast<unsigned char>(k[i] ^ 0x36);
  SHA256_Init(&pads->inner);
  SHA256_Update(&pads->inner, pad.data(), kBlock);
  for (std::size_t i = 0; i < kBlock; ++i) pad[i] = static_cast<unsigned char>(k[i] ^ 0x5c);
  SHA256_Init(&pads->outer);
  SHA256_Update(&pads->outer, pad.data(), kBlock);
  OPENSSL_cleanse(k.data(), kBlock);
  OPENSSL_cleanse(pad.data(), kBlock);
  pads_ = std::move(pads);
}

Sha256Digest HmacSha256Key::Mac(std::string_view body) const {
  SHA256_CTX ctx = pads_->inner;
  Sha256Digest inner{};
  SHA256_Update(&ctx, body.data(), body.size());
  SHA256_Final(inner.data(), &ctx);
  ctx = pads_->outer;
  Sha256Digest out{};
  SHA256_Update(&ctx, inner.data(), kSha256Size);
  SHA256_Final(out.data(), &ctx);
  OPENSSL_cleanse(&ctx, sizeof ctx);
  return out;
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char ch : bytes) {
    auto c = static_cast<unsigned char>(ch);
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

}  // namespace podcd
