// Test-only helper: one key of each type per test binary. Header-only so
// that it is never linked into the library.
#ifndef BULKHEAD_CRYPTO_TEST_KEYS_H_
#define BULKHEAD_CRYPTO_TEST_KEYS_H_

#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string_view>

#include "crypto/key.h"

namespace bulkhead::crypto {

// kAllKeyTypes lists every KeyType, for parameterised tests.
inline constexpr KeyType kAllKeyTypes[] = {KeyType::kEc256, KeyType::kEc384, KeyType::kRsa2048,
                                           KeyType::kRsa3072, KeyType::kRsa4096};

// Fixed RSA keys, made for these tests only and never used anywhere else.
// ctest runs every test in its own process, and generating RSA keys of
// these sizes takes seconds each; EC keys are generated fresh.
inline constexpr std::string_view kTestRsa2048Pem = R"pem(
-----BEGIN PRIVATE KEY-----
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQDVDKJQhFeXDkdY
tTImASFpIg8YBGSBynbDF3dfCltr6/4aJGwDXbgt6HcX1qSiD3+SqDyGIIo/dhgS
i6865jaLeIYQNAvORhcfGmlmJmVeKn+sSDu4QTd+7Pjck3KPzgOYllJLTgx0uS54
dxX4teM3IN2gF5UCpF972GqIjKzentZoSbdP+PKFpgTDwSRdWXubs23hRt+SHB7V
b6vGrP51p8K1vOP271yLxcvZsezqTQaNXNsB6NJZ3fH2y1r/RIfF/kRw1Gb2WYLO
NyXp8DeSbo1QXNL6G3BKoXBV/e+le/WghDw2xV0wvxNcK31HHpLO8PUHhB+GSzwn
RtxnFOizAgMBAAECggEAKtlgp+sGJtZzWQ8QZ/5gNuHnwT/Y6xXKbxCALLhLjNgp
Ah8DLmYiDfGsSjocYI/Xa6q0iZFv3LWmv8wiUSlOHRz/cbDWEwWbzuCkBCyCxL6t
cPwSLsvHGpsUrmBlcTDRHlZVdNncvXklNItW+u+yJDtS98jmamKe5aywOIh6mEdh
rnygqBX5sagFiw8JgYY4HNnhePFZO7jCQUNRuRGE53Rlg2IzNJiqs82PtZzH33CN
dJ5YDVvS2s4dXWG3wXe1bGWgBwCzD5nlnEUXzDnEwSf7p6ozRlY3JJYZqfYpxBo9
+ossCo3EejtT99cOtrEX6E2gaA/A1XzpU1joodsheQKBgQD/LtTDaE0dPFWeHQLf
jUgZL3jRv0+GHbrEMfvuNzPt7ZiKJbPn8SAsbnkdMCNk59EWyOFMIqF21pqCpwBY
STdmTWWkJU86XXW9Pd68gUgh9jWa+mUXBkvm2CfLp31CnmM/52wVOKWt+a2VBVZC
HqgrepLSE/0zsY69/cvr907SxQKBgQDVu0RMUanlLj7W93MJbdtSKk+oLXyjc17Z
Xa1xdTqull4YCQUHxuKGvxQsjTrpHWn+J+NHBFaPiCOPaAyibuZd4/qZ84Zgi4JF
C8IB3VAahoOMvyjVe1PAeSbN1d/KSpZjKipqvddMZYKGaln4D25yzNnNJsJGzGjE
xmeTcvulFwKBgQDpm5mzedx+kyleIfjrZo9GXysf+R94C+dajNexcF/dxNEMRw+3
mgp2InxFuDfuvDmxvhxicqGWBUhVq0Spjf1lbh1Kc81gBQcwQ1+Q+llqndbdFbVN
qrn5jpB/48jMH+uEKPvNQZqK9jNuZQBeb2pMw119bEcz96xRSfJRBonmcQJ/UPuj
5UcMGMptBQa9j9UQRRHDHPYfQ89zIOldzp+cnIpdHL5OKaQyMNw1yKu6ppl+j86N
T1tVcQ0kbDIAl4ttviWjzrF3OR2jPoY1/H7e2y4cqjfEQR95nHRLP7LKGNwqH2ja
qZdE/K15x3SEonk2YEk+PX1yH2FUUTrcBAKNVwKBgQCNlYph0ReAI8jU4S6MaehD
4hyzoi2hKdpSmcP2bP/187UHyOZiHRPPyxkaxh9Tbe79gNnbwfMbIZfl4eADCsFD
QS9cf/1w9fstlrPjg5ydtAT8KgfNwtZsLFhuGfQHCu6dkdiYNOh+WwHlDUZl7WWS
C1Mh5b0gzyKUimmyuTaZag==
-----END PRIVATE KEY-----
)pem";

inline constexpr std::string_view kTestRsa3072Pem = R"pem(
-----BEGIN PRIVATE KEY-----
MIIG/QIBADANBgkqhkiG9w0BAQEFAASCBucwggbjAgEAAoIBgQDE0OG4T+qqwvUh
CWphl1bhIY8aVNHkAQbYubMcSb0PXe0CGbOk+0YVG/dyeZtaFNPHxJve1a5RQpGL
+p6bXBAbdEak5YfYyF1SUw76ZowabZ7LN6iyc5XRQNCiHsWY4YxPU5M6mSwzjtDg
QrimZaw01YZ33aV5685+nvyB5WH0efAkg66+scabq0pFuQRcgMGpt3jvkIr1pNxU
bAONcAsmXcLXDMYEP4p1kea7/d7C1q7cQR6/XNX15/fPQuLhswVqg/B+yJLbq6sF
bnX1m08owSEC3VSV7LOvf+4B7PCmuwJ/TrorCuCCl+Tkd9gA0MQujTK2pYseG1s1
3HiJXHzDzFNxGs7+YbXakv5KodLmPmtiufg960BX+DmYnn6bwPRQ3BlXNXWOi9wi
7sgXfxahUqyaWhF5txakmyVBihiZ0gXBQb0+vfqvQ6YFS2PneJVZ1J5n508VvOOl
MFr0ZYEJTXEZ/wU2dyEhf9iRDnzoHHCEVf0EchPIe4UCJiLNmcMCAwEAAQKCAYBN
gG+SE641xgWfF8UTXvPwPTXLyaDJJvpaN23ncsYHGhZtYE+UZPoo79VV97sMEu1+
WdaDPiOhjhQgSfVQ+kTBet0iq9v9qpDNDTX1tpHvCkGghm9grhFN0DcX0ARBene0
+RUd2xlDyDZKSRvLMnhIadjEtLwnsYqj49lNEVWsXqQIzO3v27N4s0/Q+tVT08Pv
H/d4ZrPBnUTB3bLcbEWHux4xbq8/FwJf3687UfH5SW6b/uyrsFP0vH6h2BXdiI+l
bUiY8FgMUEnHCdX4/R3c3Q4zep3mUKh0fl7w276xF/MdXbeYioY3bNds5SmM8Bd/
a+pTbNQBQpKUcLm7Pxhc9P7q2O/1lKLGpQoBCHs/aMiSrBfZTQeYFyjKIib5Wd1N
CNEOZovVxPq3ekIcQU79gaLkyU9JwtwmOoypVQPsg3B0iLtWh/FoJisX5qdkTZjK
B0naiyO9xI4CQ7oExovU67GejniEGU7yAAWsmnillO5gXbiPtxoj97LlQJ/dTOEC
gcEA696TsA1hS3uVs59TuJLg05zzR+59LTXZE86p+lPZXENDEIK9oOkOlIaqC6nl
oafgdkuEGZhS+d6SQt4h5KoW8X6EWfFFekxFmwB1Hr1jfbz26ur6u7y6fBpoHkZC
IPXwhJrBU+kzvmk+wqc3+cthvC6izCYcb9ORZjVcXlf1XXDAjpBAj1lpIOTRRVkM
0Bu5cwrzTn8YJOqj/vM8KMjyAjAuQtnNgErQVN3MvZ8CaeXO23u6Rzb5z6+v9la+
WIoRAoHBANWdCiJBpYTgPO0RTHLoC1pmTaWT1WLWEuQ80qyJlz9zT8M5zxCQW9DG
ChLrL5XzRMy1AxZHpIEj9RKBclRq8H/oF7mH4t5HSrL7J0W3+M7tXNMai0xO/cw+
yRAiUjV8LQF0M5/8IfKRkpvMbDsmUUM2vjjwGFy/TeFpmFJFXBItdaWDVN/ZJYTP
3Vl81l9cVRNRIljBQwEMEDmCtG4ubt+E6uOajt8DvkVllpuEI5C84uYqc/d+PXG/
8x0ONA8ykwKBwE/IgfxTCk4WB5Uyl4cfZ50swb3bFcxtInhot2ZNZoCm39B96Na8
/omO44X+egYsWuioso5Vz/tlJeQobx6ByjD1sp8Z1X6AviqoBPXY6gZmHL9prFZE
iG/iHsXezg+IIUs5bZuMjkwiHXCKT4zXFsAopjiXy5an4c7Ize27outwcDHI6Y2T
mNPfkkn6zTK3rgsT8SjkJK6YD9D1RawmDHZhBcTnF3QF2mJahB6/4nkfmtDzERd1
qRpvOv4AaXJZgQKBwHWzjRTpFRnNMOTzhis+XpsWCay1c3t9N3WZaf/15Gfq0sVg
gg6/bEfyBzT7cAHwxDUDfEr3eNZLiMsElombTx87NG9fR4twvuE18CLDRw5FzcLo
Ol72m3PCGKmSL7gWzvmhHJ0HoXD181FzZyOEbnxZmqDm8pWQN4p/05VpcFz3vX5Q
iiC5lqnCm1WmqrxqtNnq98Dt5EycaAg4U9DuNttkcsSsshKCDoJQgpb4TVyAJ4np
VHLHlXWq7XtSCy9gjwKBwQDDqb757ug2QyICJ6EL9NPKyF3+x7UDVJiXHPTQ+Y9U
0Rjf4uWpHIOtmGszGTnaahJ4btl3gpbw18WLu64FHK+WUmj4umE/t9ilIotwYKq9
6zr/aWnsVjCOeqh8s2CNA7+VfwRLqmdGvLJ4ZF0h7X4pLNgKdtRX7Gx22xSdRlV7
8oEeGJdQH4Uxi2l0Y1Spn4wNgMCQVcbZGOBXk7NojyninBmJ5y9zhckIBOE/1tlQ
f0t4RmXPCvfIFc7SfBpklNc=
-----END PRIVATE KEY-----
)pem";

inline constexpr std::string_view kTestRsa4096Pem = R"pem(
-----BEGIN PRIVATE KEY-----
MIIJQgIBADANBgkqhkiG9w0BAQEFAASCCSwwggkoAgEAAoICAQDXXFRjCEb37n72
C1Q4xI0WJODGfZ+mLbwI0+hE24mLnATJpAMV1DTVnJ8jbK5/tC1ffoYSUUqFua7t
FazV2O0pYASruxBegz7GbYLv0PLAQy707/eUZSoJfPo5mVOLmGWIQUExq7ydykiL
gLA5cE/nNnRJThGW9sEI7q535Hw7HUuz6xEYyuvipTEfuqQMGroIwjaY40fU7UH/
lPGJdinF91dpa7LWHM0giaCC0jNz4uT1yeE8y8J34jD0MhVGfCWB3M0ehdRriAzh
5yGVpt+BylezMFDTlsl77G2TWC/F2tieKPjeDXWA8hIXzWgybHw9gYTQENjpypZK
EoUw/pdedR2gr7rXZ9lzbgKaBjDe7qmrCNM22rWnbQKWwCZ4T3uWnGHI8awOlLKZ
qLd8brOiHHD6MhE2tSxzgg7I3Xzc5kXL0Eigd2wR7Iiqh0WZIkvNgOlnNk2GNLTy
O0RHbHONkWNSvBYTXX6XAUYspG58bRP7V7+BilAFWof6pbxr2gTz9y8fWvOgTTR8
1aLrO2Iu6AC8fSPaYDG+nmep3IiR5fjoqY2ctegd4hq2HJR563fPc6sNcFBYP2SC
cTogAI3BBXns98a4UmH+Ufj4E8lNh8yacNkhiQnkJcYuyJbsYqDtapDWDsY90qnG
W2rAdieLSl+frHuYvN6EeQz9hDv8CwIDAQABAoICAC0IxSq6WeDRsiHwZ4nBbEFj
r89CCMb+zFHKQklX4TDdDNE/p1eCuxOqP0rwmKLiwhQ0iIO/FQbWt+IjBLPpO1rK
Fd/1a6xf5Joo31cXyhNzWRfmME8LQpmeVVMDIYnQ8fZmsuPYpkYWvUnSvMceGc9f
PzzvAtWfPumHw9sVX/canrB+aOJW2LHZ2mZoqJJRanKXbkRVTrmTbZgtBL86guy/
VruYRlroxepWbUa9/v1uRnOxZhTJBR79oUAHUxSctFkuG4SU9sEPv6Xjp828CgQB
lIpHgbdlUjfETnuf1smYhHC6X6RLizVOKYNptC7LKcXQ1j2OMFXfQ8M0kT6YFn3L
PtEM1kEQGjBpZtpfGJboiEmv38iJB5B/grm+cK14/qI1SFOhC1sdpsBlH9gwrlV9
Hd1Pu9ekZ36mVKjXXEx4qQn3JpiRVNqAs5f5HXPt9XBHnl6oTwH/7ZSnHk4hMqEY
J2q0Y2xO/FH1VwVjTKnjJkmb5HC/VdG7uz5khCpp8unA6FooC/gGOfaK3nrDf/xC
istugvqTMo5uedlTRMKuXi25DiiglE4taNAjDH/7hCG24hjuArOp2zLa8phvCPUs
e+TxCzA9S9AOizF/FAAi3RDUp0Z4THoS7i5KzjUQfkshITcPesGgkMWza5yQDuS6
mq4wUd17AuSPWoPZW4f5AoIBAQD5MU0KPMGRErYQm4vTLj8sB00V/ykkJIB5CNyS
Ge1LAYWfM8ZrtN+Ui6CS4XXSJu1UjZd0cxqjLIApwcXrXROnHKhh8J5wLqX9ZU6Y
6vhhE0svjRtGNhFrZSSlNri1YXvAHIz7tkbHfWbQFwemlOxbZnC58nv/Yeo2hS7+
DmFQ+cPtR07OwgR5AMOcUJqTggMAycNXEGVXnK71NOKvn45foLIyVW4drl9AqLoh
JsOoXhZBAUvvKqvjHeOqHTu8ZrnAjPSyLWhoMCAHxPJSXtb2DFkCrlY5X2UnoSO7
fnmwFAqk47AwFLxZ+2n6MpjBwYtMQ+jWpG+ClDJI5ctggTD5AoIBAQDdPm3cZ/Ep
2dSVF47BhUphj1siWc3UwIPIKEqvazSeicD3J595m+j/Rtl7JuBV8rlK/xuwgr7q
++yMdXzjcGcctIt8Ac4UoChnqN8BNBmBAFo/hxZcPIL000V4e7o66L52STZ9JuCm
ZNjZzxGrpcdA1RBCUvH9KpcvKc5u917riYapQzlYI78vvlyHDtTC1elMlKnKVxiG
4nWWdQL8kJVnYDJe01pzaJbbX0G5+wtSOEUvfbPdtqLZ64q9ojjr6QHE4eJ20Xfh
hrv6NfbmXW4LYcvrc7DIwpOzhc+L2T8n1dj8O/P0DExBY+NZNYpLZiTgVYOT0KU8
tjS+ayZfoRojAoIBAB/7NtL4hzMyPpGVFPXueocRDNCk5cfQs3hVLdHGaBD3Sgnr
oCyUkxlCbkJLk058VntCjMySNTn57Rzu1JLnaC1LXUTsl7j4E6+Yv+SaS3RSAJVC
u9xf9g5ddb2Kb1w//ZzjTSjE9QKHUpmkSwQTGt6EIDWNLGLTUzbaEvTiLZUx6PZb
735TojVRZsl6Asypo+8G9f4Hiaob3sxzlCBMDv6w5g3VrwM6LNlkjjbQ/c1u/dYr
723rgRHt9RkRFWiRmodez8zKTRsKCiJVIXB24YnEfev9Ke3FE3tpj+dxTPbPK6qL
2kHhd2bpAGnu8nHzgAgyswBRLEqK8IUwkNB65CkCggEAfaLWADOGX52zenbGOl7W
vlAKEJeuqwIn06INx0+5sc3IJpH5nbVLuqshFS4edrA/SLdVogadJBOrYJfXM9DA
vSxJiUH9JPlN+I+NE8HiOb9ZgHnV2MsEEsNmz+Ry/MDuZ31r0+Yf7F2YRxevkSmy
3L4hXYh8oqds8vtqntkareaK8dOa3NJv30zafleNupZ+xV4mjSCobPBsleQcrg/s
x6d48yBSXPcns6uER3ioFSifITjgyybLk7SONOHKMS1AM+2SDKcmzIsWdB/w9SBZ
PV1rz2kDGv5joa57DY9wrc5iSdpBznStWPTARgiBYA/BISNudKInMzLFAN0YDXYO
wQKCAQEA9yictU+tSSB+93zNaJVNu6gOjj5+ffqUIMXNgQ9nl1S+fJ3JpAeKq33m
O+OmFEtRYWffrdKyz3nRJ4/S++YaqK8ypdUdzSxSBZAVbIGalEM+KeUV0wwV5Uaj
uDKR2F8AtKU/fVxqQVMwZ3NdZYYwbpMcNuF/hrExQv7XmjrC6G6T2sfp/g1bMt3w
lN1BYn4Hmcyhj4T8Ra3Lu/kmNOZiJNTrT9yFCQmcbs9oxqDMq3VNuM9MV4YfBWQy
z4FTcDxOAXsYsi8Ay4ZjTuKVOkE8kXXV5TkI9GxPnZacMVWQzNo0iaqvXKBKeR80
hbjoVtXJR2GodhEpqEk22WjG4Isi5w==
-----END PRIVATE KEY-----
)pem";

// TestKeyPem returns the fixed PEM for an RSA type, or "" for EC types.
inline std::string_view TestKeyPem(KeyType type) {
  switch (type) {
    case KeyType::kRsa2048:
      return kTestRsa2048Pem.substr(1);
    case KeyType::kRsa3072:
      return kTestRsa3072Pem.substr(1);
    case KeyType::kRsa4096:
      return kTestRsa4096Pem.substr(1);
    default:
      return "";
  }
}

// TestKey returns a key of `type`, made on first use and shared by all tests
// of the process. Aborts if it cannot, as no test could run meaningfully
// after that.
inline const PrivateKey& TestKey(KeyType type) {
  static std::mutex mu;
  static std::map<KeyType, PrivateKey> keys;
  std::lock_guard<std::mutex> lock(mu);
  auto it = keys.find(type);
  if (it == keys.end()) {
    std::string_view pem = TestKeyPem(type);
    auto key = pem.empty() ? PrivateKey::Generate(type) : PrivateKey::FromPem(pem);
    if (!key.ok() || key->type() != type) {
      std::fprintf(stderr, "TestKey: cannot make a %s key\n", KeyTypeName(type).data());
      std::abort();
    }
    it = keys.emplace(type, std::move(key).value()).first;
  }
  return it->second;
}

}  // namespace bulkhead::crypto

#endif  // BULKHEAD_CRYPTO_TEST_KEYS_H_
