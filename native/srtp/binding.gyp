# The SRTP packet addon (srtp_packet.c), built by scripts/build-native.mjs on
# npm install. It links nothing: Node exports its bundled OpenSSL's symbols to
# addons, and node-gyp puts Node's OpenSSL headers on the include path.
{
  "targets": [
    {
      "target_name": "srtp_packet",
      "sources": ["srtp_packet.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
