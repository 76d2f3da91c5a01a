// Importing lego's state (its --path, ./.lego by default): accounts from
// accounts/<host>_<port>/<email>/{account.json,keys/<email>.key} and the
// current certificate of each domain from certificates/<domain>.{crt,key}
// (lego keeps no older versions). lego records neither the CA's directory
// URL (only its host) nor how it answered challenges, so both come from
// the command line (ImportOptions::server, ::webroot or ::standalone). The
// source is only read.
#ifndef BULKHEAD_MIGRATE_LEGO_H_
#define BULKHEAD_MIGRATE_LEGO_H_

#include "migrate/certbot.h"
#include "migrate/import.h"

namespace bulkhead::migrate {

// ImportLego imports the accounts of the CA o.server and every certificate
// under o.source_dir/certificates into o.state_dir, one report line each.
// Accounts of other CAs are refused naming the --server to use; without a
// method (o.webroot or o.standalone) certificates are refused saying so.
ImportReport ImportLego(const ImportOptions& o);

}  // namespace bulkhead::migrate

#endif  // BULKHEAD_MIGRATE_LEGO_H_
