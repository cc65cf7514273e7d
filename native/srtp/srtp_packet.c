// SRTP/SRTCP packet transforms of RFC 3711 in one call per packet:
// AES in counter mode (§4.1.1) and HMAC-SHA1 authentication (§4.2), in place
// on the caller's Buffer, against the OpenSSL that Node carries.
//
// Only the per-packet crypto lives here. Key derivation, rollover counters,
// replay windows and policy stay in src/media/srtp.ts, which calls
// seal() / open() with the packet index it has worked out.
#define OPENSSL_SUPPRESS_DEPRECATED // SHA1_* lets us keep the HMAC pad states and copy them per packet
#include <node_api.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define AES_BLOCK 16
#define SALT_LEN 14
#define SHA1_BLOCK 64
#define SHA1_LEN 20
// Counter blocks encrypted per EVP call: a 1,500-byte packet needs 94.
#define CHUNK_BLOCKS 128

enum { FLAG_ENCRYPT = 1, FLAG_TRAILER = 2 };

typedef struct {
  EVP_CIPHER_CTX *ecb;
  SHA_CTX inner; // state after absorbing K XOR ipad
  SHA_CTX outer; // state after absorbing K XOR opad
  uint8_t salt[SALT_LEN];
} keys_t;

static void keys_free(keys_t *k) {
  if (k == NULL) return;
  if (k->ecb != NULL) EVP_CIPHER_CTX_free(k->ecb); // frees and cleanses the key schedule
  OPENSSL_cleanse(k, sizeof *k);
  free(k);
}

static void finalize_keys(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  keys_free((keys_t *)data);
}

#define CHECK(call)                                                      \
  do {                                                                   \
    if ((call) != napi_ok) {                                             \
      napi_throw_error(env, NULL, "srtp_packet: bad arguments");         \
      return NULL;                                                       \
    }                                                                    \
  } while (0)

static int get_buffer(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  bool is;
  if (napi_is_buffer(env, v, &is) != napi_ok || !is) return 0;
  return napi_get_buffer_info(env, v, (void **)data, len) == napi_ok;
}

// keys(encKey, authKey, salt): an external holding the session keys.
static napi_value create_keys(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint8_t *ek, *ak, *salt;
  size_t ekl, akl, saltl;
  if (argc != 3 || !get_buffer(env, argv[0], &ek, &ekl) || !get_buffer(env, argv[1], &ak, &akl) ||
      !get_buffer(env, argv[2], &salt, &saltl)) {
    napi_throw_type_error(env, NULL, "keys(encKey, authKey, salt) takes three Buffers");
    return NULL;
  }
  const EVP_CIPHER *cipher = ekl == 16 ? EVP_aes_128_ecb() : ekl == 24 ? EVP_aes_192_ecb() : ekl == 32 ? EVP_aes_256_ecb() : NULL;
  if (cipher == NULL || akl > SHA1_BLOCK || saltl != SALT_LEN) {
    napi_throw_range_error(env, NULL, "AES key of 16, 24 or 32 bytes, auth key of at most 64, salt of 14");
    return NULL;
  }
  keys_t *k = calloc(1, sizeof *k);
  if (k == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  k->ecb = EVP_CIPHER_CTX_new();
  if (k->ecb == NULL || EVP_EncryptInit_ex(k->ecb, cipher, NULL, ek, NULL) != 1 || EVP_CIPHER_CTX_set_padding(k->ecb, 0) != 1) {
    keys_free(k);
    napi_throw_error(env, NULL, "OpenSSL refused the AES key");
    return NULL;
  }
  // RFC 2104: H(K^opad || H(K^ipad || m)); the padded-key blocks are hashed once here.
  uint8_t pad[SHA1_BLOCK];
  memset(pad, 0x36, sizeof pad);
  for (size_t i = 0; i < akl; i++) pad[i] ^= ak[i];
  SHA1_Init(&k->inner);
  SHA1_Update(&k->inner, pad, sizeof pad);
  memset(pad, 0x5c, sizeof pad);
  for (size_t i = 0; i < akl; i++) pad[i] ^= ak[i];
  SHA1_Init(&k->outer);
  SHA1_Update(&k->outer, pad, sizeof pad);
  OPENSSL_cleanse(pad, sizeof pad);
  memcpy(k->salt, salt, SALT_LEN);
  napi_value ext;
  if (napi_create_external(env, k, finalize_keys, NULL, &ext) != napi_ok) {
    keys_free(k);
    napi_throw_error(env, NULL, "napi_create_external failed");
    return NULL;
  }
  return ext;
}

// dst[from, to) = src[from, to) ^ AES-CM keystream for IV = (salt * 2^16) ^ (ssrc * 2^64) ^
// (index * 2^16), index = indexHigh * 2^16 + indexLow (§4.1.1); the block counter is the IV's
// low 16 bits. src and dst may be the same memory.
static int crypt(keys_t *k, const uint8_t *src, uint8_t *dst, size_t from, size_t to, uint32_t ssrc, uint32_t hi, uint32_t lo) {
  uint8_t iv[AES_BLOCK];
  memcpy(iv, k->salt, SALT_LEN);
  iv[4] ^= ssrc >> 24, iv[5] ^= ssrc >> 16, iv[6] ^= ssrc >> 8, iv[7] ^= ssrc;
  iv[8] ^= hi >> 24, iv[9] ^= hi >> 16, iv[10] ^= hi >> 8, iv[11] ^= hi;
  iv[12] ^= lo >> 8, iv[13] ^= lo;
  uint8_t ctr[CHUNK_BLOCKS * AES_BLOCK], ks[CHUNK_BLOCKS * AES_BLOCK];
  uint32_t block = 0;
  while (from < to) {
    size_t len = to - from;
    if (len > sizeof ks) len = sizeof ks;
    size_t n = (len + AES_BLOCK - 1) / AES_BLOCK;
    if (block + n > 0x10000) return 0; // past 2^16 blocks the counter would run into the index
    for (size_t b = 0; b < n; b++, block++) {
      memcpy(ctr + b * AES_BLOCK, iv, 14);
      ctr[b * AES_BLOCK + 14] = (uint8_t)(block >> 8);
      ctr[b * AES_BLOCK + 15] = (uint8_t)block;
    }
    int outl = 0;
    if (EVP_EncryptUpdate(k->ecb, ks, &outl, ctr, (int)(n * AES_BLOCK)) != 1) return 0;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
      uint64_t a, s;
      memcpy(&a, src + from + i, 8);
      memcpy(&s, ks + i, 8);
      a ^= s;
      memcpy(dst + from + i, &a, 8);
    }
    for (; i < len; i++) dst[from + i] = src[from + i] ^ ks[i];
    from += len;
  }
  OPENSSL_cleanse(ks, sizeof ks);
  return 1;
}

// HMAC-SHA1 over buf[0, end), then the 32-bit big-endian trailer when asked (the ROC, §4.2).
static void mac(const keys_t *k, const uint8_t *buf, size_t end, uint32_t trailer, int with_trailer, uint8_t out[SHA1_LEN]) {
  SHA_CTX c = k->inner;
  SHA1_Update(&c, buf, end);
  if (with_trailer) {
    uint8_t t[4] = {(uint8_t)(trailer >> 24), (uint8_t)(trailer >> 16), (uint8_t)(trailer >> 8), (uint8_t)trailer};
    SHA1_Update(&c, t, 4);
  }
  SHA1_Final(out, &c);
  c = k->outer;
  SHA1_Update(&c, out, SHA1_LEN);
  SHA1_Final(out, &c);
  OPENSSL_cleanse(&c, sizeof c);
}

typedef struct {
  keys_t *keys;
  uint8_t *src, *dst;
  size_t src_len, dst_len;
  uint32_t from, to, ssrc, hi, lo, auth_end, trailer, tag_at, tag_len, flags;
} packet_args;

#define PACKET_ARGC 13

// Reads (keys, src, dst, from, to, ssrc, indexHigh, indexLow, authEnd, trailer, tagAt, tagLen, flags)
// and checks the ranges both functions share against the Buffers.
static int read_packet_args(napi_env env, napi_callback_info info, packet_args *a) {
  size_t argc = PACKET_ARGC;
  napi_value argv[PACKET_ARGC];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < PACKET_ARGC) return 0;
  if (napi_get_value_external(env, argv[0], (void **)&a->keys) != napi_ok || a->keys == NULL || a->keys->ecb == NULL) return 0;
  if (!get_buffer(env, argv[1], &a->src, &a->src_len) || !get_buffer(env, argv[2], &a->dst, &a->dst_len)) return 0;
  uint32_t *fields[] = {&a->from, &a->to, &a->ssrc, &a->hi, &a->lo, &a->auth_end, &a->trailer, &a->tag_at, &a->tag_len, &a->flags};
  for (int i = 0; i < 10; i++) {
    if (napi_get_value_uint32(env, argv[3 + i], fields[i]) != napi_ok) return 0;
  }
  return a->from <= a->to && a->to <= a->src_len && a->to <= a->dst_len && a->tag_len <= SHA1_LEN;
}

static int transform(const packet_args *a) {
  if (a->flags & FLAG_ENCRYPT) return crypt(a->keys, a->src, a->dst, a->from, a->to, a->ssrc, a->hi, a->lo);
  if (a->src != a->dst) memmove(a->dst + a->from, a->src + a->from, a->to - a->from);
  return 1;
}

// seal(keys, src, dst, from, to, ssrc, indexHigh, indexLow, authEnd, trailer, tagAt, tagLen, flags):
// dst[from, to) = src[from, to), encrypted when flags & ENCRYPT; then the first tagLen bytes of
// the HMAC of dst[0, authEnd) (+ trailer when flags & TRAILER) are written at dst[tagAt].
static napi_value seal(napi_env env, napi_callback_info info) {
  packet_args a;
  if (!read_packet_args(env, info, &a) || a.auth_end > a.dst_len || (a.tag_len > 0 && a.tag_at + a.tag_len > a.dst_len)) {
    napi_throw_range_error(env, NULL, "seal: arguments out of range");
    return NULL;
  }
  if (!transform(&a)) {
    napi_throw_error(env, NULL, "seal: AES failed");
    return NULL;
  }
  if (a.tag_len > 0) {
    uint8_t tag[SHA1_LEN];
    mac(a.keys, a.dst, a.auth_end, a.trailer, a.flags & FLAG_TRAILER, tag);
    memcpy(a.dst + a.tag_at, tag, a.tag_len);
  }
  return NULL;
}

// open(keys, src, dst, from, to, ssrc, indexHigh, indexLow, authEnd, trailer, tagAt, tagLen, flags):
// true when the tag at src[tagAt] matches the HMAC of src[0, authEnd) (+ trailer); only then
// dst[from, to) = src[from, to), decrypted when flags & ENCRYPT. False leaves dst untouched.
static napi_value open_packet(napi_env env, napi_callback_info info) {
  packet_args a;
  if (!read_packet_args(env, info, &a) || a.auth_end > a.src_len || a.tag_at + a.tag_len > a.src_len) {
    napi_throw_range_error(env, NULL, "open: arguments out of range");
    return NULL;
  }
  bool ok = true;
  if (a.tag_len > 0) {
    uint8_t tag[SHA1_LEN];
    mac(a.keys, a.src, a.auth_end, a.trailer, a.flags & FLAG_TRAILER, tag);
    ok = CRYPTO_memcmp(tag, a.src + a.tag_at, a.tag_len) == 0; // constant time
  }
  if (ok && !transform(&a)) {
    napi_throw_error(env, NULL, "open: AES failed");
    return NULL;
  }
  napi_value result;
  if (napi_get_boolean(env, ok, &result) != napi_ok) return NULL;
  return result;
}

// wipe(keys): frees the key schedule and HMAC states now rather than at garbage collection.
static napi_value wipe(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  keys_t *k = NULL;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_external(env, argv[0], (void **)&k) != napi_ok || k == NULL) {
    napi_throw_type_error(env, NULL, "wipe(keys)");
    return NULL;
  }
  if (k->ecb != NULL) EVP_CIPHER_CTX_free(k->ecb);
  k->ecb = NULL; // later seal/open calls on these keys are refused
  OPENSSL_cleanse(&k->inner, sizeof k->inner);
  OPENSSL_cleanse(&k->outer, sizeof k->outer);
  OPENSSL_cleanse(k->salt, sizeof k->salt);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"keys", NULL, create_keys, NULL, NULL, NULL, napi_default, NULL},
      {"seal", NULL, seal, NULL, NULL, NULL, napi_default, NULL},
      {"open", NULL, open_packet, NULL, NULL, NULL, napi_default, NULL},
      {"wipe", NULL, wipe, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
