// SHA-256 digests and HMAC-SHA256, the one implementation: one-shot and incremental, as
// lowercase hex or raw bytes.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <string_view>

struct SHA256state_st;

namespace podcd {

inline constexpr std::size_t kSha256Size = 32;
using Sha256Digest = std::array<unsigned char, kSha256Size>;

class Sha256 {
 public:
  Sha256();
  Sha256(Sha256&&) noexcept = default;
  Sha256& operator=(Sha256&&) noexcept = default;
  ~Sha256() = default;

  void Update(std::string_view bytes);
  // Finishes the digest; the object must not be updated afterwards.
  [[nodiscard]] std::string HexDigest();

 private:
  struct Deleter {
    void operator()(SHA256state_st* ctx) const noexcept;
  };
  std::unique_ptr<SHA256state_st, Deleter> ctx_;
};

[[nodiscard]] std::string Sha256Hex(std::string_view bytes);
[[nodiscard]] std::string HexEncode(std::string_view bytes);

// HMAC-SHA256 (RFC 2104) of `body` under `key`.
[[nodiscard]] Sha256Digest HmacSha256(std::string_view key, std::string_view body);

// The same under one key for many short bodies: the key's two padded blocks are hashed once,
// each Mac() copies those states (a plan keys every field of every service). Mac() is const
// and safe from several threads; copies share the key's state.
class HmacSha256Key {
 public:
  explicit HmacSha256Key(std::string_view key);
  [[nodiscard]] Sha256Digest Mac(std::string_view body) const;

 private:
  struct Pads;
  std::shared_ptr<const Pads> pads_;
};

}  // namespace podcd
