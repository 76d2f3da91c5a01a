// Owning pointers for libldns objects, so every ldns allocation is freed on
// every path. Include after other headers: ldns's headers define macros that
// clash with some C++ headers.
#ifndef BULKHEAD_DNS_LDNS_PTR_H_
#define BULKHEAD_DNS_LDNS_PTR_H_

#include <ldns/ldns.h>

#include <cstdlib>
#include <memory>

namespace bulkhead::dns {

struct LdnsRdfFree {
  void operator()(ldns_rdf* p) const { ldns_rdf_deep_free(p); }
};
struct LdnsPktFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
struct LdnsResolverFree {
  void operator()(ldns_resolver* p) const { ldns_resolver_deep_free(p); }
};
struct LdnsRrListFree {
  void operator()(ldns_rr_list* p) const { ldns_rr_list_deep_free(p); }
};
struct LdnsBufferFree {
  void operator()(ldns_buffer* p) const { ldns_buffer_free(p); }
};
struct LdnsCharsFree {
  void operator()(char* p) const { std::free(p); }
};

using UniqueRdf = std::unique_ptr<ldns_rdf, LdnsRdfFree>;
using UniquePkt = std::unique_ptr<ldns_pkt, LdnsPktFree>;
using UniqueResolver = std::unique_ptr<ldns_resolver, LdnsResolverFree>;
using UniqueRrList = std::unique_ptr<ldns_rr_list, LdnsRrListFree>;
using UniqueBuffer = std::unique_ptr<ldns_buffer, LdnsBufferFree>;
using UniqueChars = std::unique_ptr<char, LdnsCharsFree>;  // ldns_*2str results.

}  // namespace bulkhead::dns

#endif  // BULKHEAD_DNS_LDNS_PTR_H_
