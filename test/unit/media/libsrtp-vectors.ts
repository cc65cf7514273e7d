// SRTP/SRTCP packets protected by libsrtp 2.5.0 (Debian libsrtp2-1), produced
// by gen-libsrtp-vectors.py. They pin our wire format to an implementation
// nobody here wrote. libsrtp numbers SRTCP packets from 1, we from 0 (RFC
// 3711 §3.4), so its n-th SRTCP packet carries index n.
import type { SrtpSuiteName } from '../../../src/media/srtp.ts';

export interface LibsrtpCase {
  suite: SrtpSuiteName;
  key: string;
  salt: string;
  mki?: string;
  encryptRtcp?: boolean;
  /** Plain RTP packets, in sending order, and libsrtp's SRTP output for each. */
  rtp: string[];
  srtp: string[];
  /** Plain RTCP packets and libsrtp's SRTCP output for each. */
  rtcp: string[];
  srtcp: string[];
}

export const LIBSRTP_CASES: LibsrtpCase[] = [
  {
    suite: 'AES_CM_128_HMAC_SHA1_80',
    key: 'e1f97a0d3e018be0d64fa32c06de4139',
    salt: '0ec675ad498afeebb6960b3aabe6',
    rtp: [
      '8000fffe00001234cafebabeabababababababababababababababab',
      '8000ffff00001334cafebabeabababababababababababababababab',
      '8000000000001434cafebabeabababababababababababababababab',
      '9000000100001534cafebabe0001000111223344abababababababababababababababab',
    ],
    srtp: [
      '8000fffe00001234cafebabedae8b0de83c8b04e96f24a2425bce81e807cc95d181ce0393b8c',
      '8000ffff00001334cafebabef36e96fc87ac01758cea5f94ba171db898ab3c5177d68ff5a5f8',
      '8000000000001434cafebabe24ecf92d9c97bf2ac679b796fdfd365a33b4c21f7ae47eee7513',
      '9000000100001534cafebabe0001000111223344b6f1f0a458a238ac3d2f55ac6566b25cf93aaf98637be9c9ccbe',
    ],
    rtcp: [
      '81c8000ccafebabee0000000000000010000123400000001000000a0deadbeef000000000000fffe00000010000000000000000000',
    ],
    srtcp: [
      '81c8000ccafebabe3a83a8f04f2c1217155329de52dc0e027e44138a1fb993c89fa5fb2915b5c49fc0769a2ee12a0fd653e66dca8e80000001eeb71e889e677167a0d0',
    ],
  },
  {
    suite: 'AES_CM_128_HMAC_SHA1_32',
    key: 'f0f04914b513f2763a1b1fa130f10e29',
    salt: '98f6f6e43e4309d1e622a0e332b9',
    mki: '01',
    rtp: [
      '8008ffff11111111cafebabe00112233445566778899aabbccddeeff',
      '8088000011111231cafebabe00112233445566778899aabbccddeeff',
    ],
    srtp: [
      '8008ffff11111111cafebabecf2c0de8b1f0ecd555c32e9eff3dddf2018d331ef9',
      '8088000011111231cafebabec5117b2fea5dea05ec110ea41b71c73e0184bf9d20',
    ],
    rtcp: [
      '80c90001cafebabe',
      '80c90001cafebabe',
    ],
    srtcp: [
      '80c90001cafebabe80000001018c3bb1a047d9a89fc0fe',
      '80c90001cafebabe800000020159e2f4141283a911777e',
    ],
  },
  {
    suite: 'AES_256_CM_HMAC_SHA1_80',
    key: 'f0f04914b513f2763a1b1fa130f10e2998f6f6e43e4309d1e622a0e332b9f1b6',
    salt: '3b04803de51ee7c96423ab5b78d2',
    mki: 'a1b2c3d4',
    encryptRtcp: false,
    rtp: [
      '800f1234decafbadcafebabeabababababababababababababababab',
    ],
    srtp: [
      '800f1234decafbadcafebabef1d9de17ff251ff1aa007774b0b4b40da1b2c3d4a08d9d9a5b3a55d8873b',
    ],
    rtcp: [
      '80c90001cafebabe',
      '81ca0003cafebabe010474657374000000000000',
    ],
    srtcp: [
      '80c90001cafebabe00000001a1b2c3d473cdc1be81aa668849f5',
      '81ca0003cafebabe01047465737400000000000000000002a1b2c3d4403e7825929a9ebf7afa',
    ],
  },
  {
    suite: 'AES_256_CM_HMAC_SHA1_32',
    key: 'e1f97a0d3e018be0d64fa32c06de41390ec675ad498afeebb6960b3aabe6c173',
    salt: 'c317f2dabe357793b6960b3aabe6',
    rtp: [
      'a00f1234decafbadcafebabeabababababab00000003',
    ],
    srtp: [
      'a00f1234decafbadcafebabe0098219f7ebd11b7968a8c29439d',
    ],
    rtcp: [
      '80c90001cafebabe',
    ],
    srtcp: [
      '80c90001cafebabe80000001eb50c9b95ed73311db24',
    ],
  },
];
