// The OpenAPI 3 description served at /api/openapi.json.
#include <nlohmann/json.hpp>

#include "serve/api.h"

namespace bulkhead::serve {
namespace {

constexpr std::string_view kDocument = R"json({
  "openapi": "3.0.3",
  "info": {
    "title": "bulkhead serve",
    "version": "1",
    "description": "Endpoints and domains watched by bulkhead, their certificates' state, and the certificates managed on this host. POST and DELETE need 'Authorization: Bearer <token>' (the --token-file contents)."
  },
  "components": {
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    "schemas": {
      "Error": {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]},
      "State": {"type": "string", "enum": ["OK", "PLAN", "WARNING", "ERROR", "UNKNOWN"]},
      "Check": {"type": "object", "properties": {
        "address": {"type": "string"}, "checked_at": {"type": "string", "format": "date-time"},
        "state": {"$ref": "#/components/schemas/State"}, "error": {"type": "string"},
        "tls_version": {"type": "string"}, "cipher": {"type": "string"},
        "subject": {"type": "string"}, "issuer": {"type": "string"}, "serial": {"type": "string"},
        "sans": {"type": "array", "items": {"type": "string"}},
        "not_before": {"type": "string", "format": "date-time"},
        "not_after": {"type": "string", "format": "date-time"},
        "expires_in_seconds": {"type": "integer"},
        "sha256_fingerprint": {"type": "string"}, "key_type": {"type": "string"},
        "key_bits": {"type": "integer"}, "signature_algorithm": {"type": "string"},
        "chain_valid": {"type": "boolean", "nullable": true},
        "hostname_match": {"type": "boolean", "nullable": true},
        "managed_match": {"type": "boolean", "nullable": true},
        "tlsa_match": {"type": "boolean", "nullable": true}}},
      "Endpoint": {"type": "object", "properties": {
        "id": {"type": "integer"}, "endpoint": {"type": "string", "example": "example.com:443"},
        "host": {"type": "string"}, "port": {"type": "integer"}, "sni": {"type": "string"},
        "starttls": {"type": "string"}, "state": {"$ref": "#/components/schemas/State"},
        "not_after": {"type": "string", "format": "date-time"},
        "expires_in_seconds": {"type": "integer"},
        "checks": {"type": "array", "items": {"$ref": "#/components/schemas/Check"}}}},
      "EndpointInput": {"type": "object", "required": ["endpoint"], "properties": {
        "endpoint": {"type": "string", "description": "host, host:port or [v6]:port; port defaults to 443"},
        "sni": {"type": "string"},
        "starttls": {"type": "string", "enum": ["", "smtp", "imap", "pop3", "ldap", "postgres"]}}},
      "Domain": {"type": "object", "properties": {
        "name": {"type": "string"}, "state": {"$ref": "#/components/schemas/State"},
        "not_after": {"type": "string", "format": "date-time", "nullable": true},
        "expires_in_seconds": {"type": "integer"},
        "seen_on": {"type": "array", "items": {"type": "string"}},
        "managed_by": {"type": "array", "items": {"type": "string"}}}},
      "Certificate": {"type": "object", "properties": {
        "name": {"type": "string"}, "names": {"type": "array", "items": {"type": "string"}},
        "state": {"$ref": "#/components/schemas/State"}, "issuer": {"type": "string"},
        "serial": {"type": "string"},
        "not_before": {"type": "string", "format": "date-time"},
        "not_after": {"type": "string", "format": "date-time"},
        "expires_in_seconds": {"type": "integer"},
        "renewal_planned": {"type": "string"}, "renewal_due": {"type": "boolean"},
        "reason": {"type": "string"}, "error": {"type": "string"}}},
      "Change": {"type": "object", "properties": {
        "endpoint_id": {"type": "integer"}, "address": {"type": "string"},
        "at": {"type": "string", "format": "date-time"},
        "kind": {"type": "string", "enum": ["first_seen", "new_certificate", "issuer_changed"]},
        "old": {"type": "string"}, "new": {"type": "string"}}}
    },
    "responses": {
      "Error": {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Unauthorized": {"description": "missing or wrong bearer token", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    }
  },
  "paths": {
    "/api/endpoints": {
      "get": {"summary": "Endpoints with their current state, most urgent first",
        "responses": {"200": {"description": "endpoints", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Endpoint"}}}}}}},
      "post": {"summary": "Enrol an endpoint (idempotent)", "security": [{"bearer": []}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EndpointInput"}}}},
        "responses": {"201": {"description": "enrolled", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Endpoint"}}}},
                      "200": {"description": "already enrolled", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Endpoint"}}}},
                      "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Unauthorized"}}}
    },
    "/api/endpoints/{endpoint}": {
      "parameters": [{"name": "endpoint", "in": "path", "required": true, "schema": {"type": "string"}, "description": "host:port"}],
      "get": {"summary": "One endpoint with its check history and changes",
        "responses": {"200": {"description": "endpoint", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Endpoint"}}}}, "404": {"$ref": "#/components/responses/Error"}}},
      "delete": {"summary": "Remove an endpoint and its history", "security": [{"bearer": []}],
        "responses": {"204": {"description": "removed"}, "404": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Unauthorized"}}}
    },
    "/api/domains": {
      "get": {"summary": "Followed domains with their earliest expiry",
        "responses": {"200": {"description": "domains", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Domain"}}}}}}},
      "post": {"summary": "Follow a domain (idempotent)", "security": [{"bearer": []}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}}}},
        "responses": {"201": {"description": "followed"}, "200": {"description": "already followed"}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Unauthorized"}}}
    },
    "/api/domains/{name}": {
      "parameters": [{"name": "name", "in": "path", "required": true, "schema": {"type": "string"}}],
      "get": {"summary": "Expiry of one domain",
        "responses": {"200": {"description": "domain", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Domain"}}}}, "404": {"$ref": "#/components/responses/Error"}}},
      "delete": {"summary": "Stop following a domain", "security": [{"bearer": []}],
        "responses": {"204": {"description": "removed"}, "404": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Unauthorized"}}}
    },
    "/api/certificates": {
      "get": {"summary": "Certificates managed on this host, with planned renewals",
        "responses": {"200": {"description": "certificates", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Certificate"}}}}}}}
    },
    "/api/changes": {
      "get": {"summary": "Recent certificate changes seen by checks, newest first",
        "responses": {"200": {"description": "changes", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Change"}}}}}}}
    },
    "/api/checks": {
      "post": {"summary": "Check one endpoint, or all when no endpoint is given, and record the results", "security": [{"bearer": []}],
        "requestBody": {"required": false, "content": {"application/json": {"schema": {"type": "object", "properties": {"endpoint": {"type": "string"}, "http_headers": {"type": "boolean", "description": "judge HSTS, CSP and Referrer-Policy on every plain-TLS endpoint (not only port 443) and make weak or missing ones a WARNING"}}}}}},
        "responses": {"200": {"description": "summary of the run", "content": {"application/json": {"schema": {"type": "object"}}}},
                      "401": {"$ref": "#/components/responses/Unauthorized"},
                      "503": {"$ref": "#/components/responses/Error"}}}
    },
    "/api/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3 document"}}}},
    "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "text exposition format 0.0.4", "content": {"text/plain": {}}}}}},
    "/": {"get": {"summary": "Dashboard", "responses": {"200": {"description": "HTML page", "content": {"text/html": {}}}}}}
  }
})json";

}  // namespace

const nlohmann::json& OpenApiDocument() {
  // Parsed once; the text is ours and checked by a unit test, so a parse
  // failure would be a build defect, reported as an empty document.
  static const nlohmann::json kParsed =
      nlohmann::json::parse(kDocument, nullptr, /*allow_exceptions=*/false);
  return kParsed;
}

}  // namespace bulkhead::serve
