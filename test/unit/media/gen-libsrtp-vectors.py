#!/usr/bin/env python3
# Regenerates the packets in libsrtp-vectors.ts with the system libsrtp2
# (Debian package libsrtp2-1), through ctypes because no headers are needed.
# Not run by the test suite: the vectors are fixed data, so the unit tests do
# not depend on libsrtp being installed. Usage:
#   python3 test/unit/media/gen-libsrtp-vectors.py < cases.json
# cases.json: [{suite, key, salt, mki?, encryptRtcp?, rtp: [hex], rtcp: [hex]}]
# Output: the same list with the protected packets added.
# The struct layouts follow libsrtp 2.5's srtp.h.
import ctypes, json, sys

lib = ctypes.CDLL('libsrtp2.so.1')


class CryptoPolicy(ctypes.Structure):
    _fields_ = [('cipher_type', ctypes.c_uint32), ('cipher_key_len', ctypes.c_int),
                ('auth_type', ctypes.c_uint32), ('auth_key_len', ctypes.c_int),
                ('auth_tag_len', ctypes.c_int), ('sec_serv', ctypes.c_int)]


class SsrcSpec(ctypes.Structure):
    _fields_ = [('type', ctypes.c_int), ('value', ctypes.c_uint)]


class MasterKey(ctypes.Structure):
    _fields_ = [('key', ctypes.c_void_p), ('mki_id', ctypes.c_void_p), ('mki_size', ctypes.c_uint)]


class Policy(ctypes.Structure):
    pass


Policy._fields_ = [('ssrc', SsrcSpec), ('rtp', CryptoPolicy), ('rtcp', CryptoPolicy),
                   ('key', ctypes.c_void_p), ('keys', ctypes.c_void_p), ('num_master_keys', ctypes.c_ulong),
                   ('deprecated_ekt', ctypes.c_void_p), ('window_size', ctypes.c_ulong),
                   ('allow_repeat_tx', ctypes.c_int), ('enc_xtn_hdr', ctypes.c_void_p),
                   ('enc_xtn_hdr_count', ctypes.c_int), ('next', ctypes.c_void_p)]

SETTERS = {
    'AES_CM_128_HMAC_SHA1_80': ('rtp_default', 'rtcp_default'),
    'AES_CM_128_HMAC_SHA1_32': ('aes_cm_128_hmac_sha1_32', 'rtcp_default'),
    'AES_256_CM_HMAC_SHA1_80': ('aes_cm_256_hmac_sha1_80', 'aes_cm_256_hmac_sha1_80'),
    'AES_256_CM_HMAC_SHA1_32': ('aes_cm_256_hmac_sha1_32', 'aes_cm_256_hmac_sha1_80'),
}
SSRC_ANY_OUTBOUND = 3
SEC_SERV_AUTH = 2


def sender(case, hold):
    policy = Policy()
    rtp_set, rtcp_set = SETTERS[case['suite']]
    getattr(lib, 'srtp_crypto_policy_set_' + rtp_set)(ctypes.byref(policy.rtp))
    getattr(lib, 'srtp_crypto_policy_set_' + rtcp_set)(ctypes.byref(policy.rtcp))
    if not case.get('encryptRtcp', True):
        policy.rtcp.sec_serv = SEC_SERV_AUTH
    policy.ssrc.type = SSRC_ANY_OUTBOUND
    material = bytes.fromhex(case['key'] + case['salt'])
    key = ctypes.create_string_buffer(material, len(material) + 16)
    hold.append(key)
    mki = bytes.fromhex(case.get('mki', ''))
    if mki:
        mki_buf = ctypes.create_string_buffer(mki, len(mki))
        master = MasterKey(ctypes.cast(key, ctypes.c_void_p), ctypes.cast(mki_buf, ctypes.c_void_p), len(mki))
        keys = (ctypes.POINTER(MasterKey) * 1)(ctypes.pointer(master))
        hold.extend([mki_buf, master, keys])
        policy.keys = ctypes.cast(keys, ctypes.c_void_p)
        policy.num_master_keys = 1
    else:
        policy.key = ctypes.cast(key, ctypes.c_void_p)
    policy.window_size = 128
    session = ctypes.c_void_p()
    if lib.srtp_create(ctypes.byref(session), ctypes.byref(policy)) != 0:
        raise SystemExit('srtp_create failed')
    return session


def protect(fn, session, packet_hex, use_mki):
    data = bytes.fromhex(packet_hex)
    buf = ctypes.create_string_buffer(data, len(data) + 64)
    length = ctypes.c_int(len(data))
    if fn(session, buf, ctypes.byref(length), 1 if use_mki else 0, 0) != 0:
        raise SystemExit('protect failed')
    return buf.raw[:length.value].hex()


def main():
    if lib.srtp_init() != 0:
        raise SystemExit('srtp_init failed')
    cases = json.load(sys.stdin)
    hold = []
    for case in cases:
        session = sender(case, hold)
        use_mki = bool(case.get('mki'))
        case['srtp'] = [protect(lib.srtp_protect_mki, session, p, use_mki) for p in case.get('rtp', [])]
        case['srtcp'] = [protect(lib.srtp_protect_rtcp_mki, session, p, use_mki) for p in case.get('rtcp', [])]
    json.dump(cases, sys.stdout, indent=1)


main()
