#!/usr/bin/env bash
# Makes throw-away TLS certificates for the tests in DIR (never committed): a test CA, server
# certificates signed by it, a client certificate for mutual TLS, and a server certificate
# from an unknown CA. EC P-256 keys, valid for two days.
#   ca.pem                       the test CA
#   server.pem/.key              localhost and 127.0.0.1
#   server2.pem/.key             the same names, another certificate (reload tests)
#   other.pem/.key               other.test and *.wild.test (SNI tests)
#   client.pem/.key              a client certificate (mutual TLS)
#   rogue.pem/.key               localhost and 127.0.0.1, signed by rogue-ca.pem (unknown CA)
set -euo pipefail
dir=${1:?usage: make_test_certs.sh DIR}
mkdir -p "$dir"
cd "$dir"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

ca() {  # ca NAME CN
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -out "$1.pem" -days 2 -subj "/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
}

leaf() {  # leaf NAME CA CN EXTENSIONS
  key "$1.key"
  openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=$3"
  printf '%s\n' "$4" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -out "$1.pem" \
    -days 2 -extfile "$1.ext" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

server_ext=$'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE'
ca ca "Duplex Test CA"
leaf server ca "localhost" "$server_ext"
leaf server2 ca "localhost (reloaded)" "$server_ext"
leaf other ca "other.test" \
  $'subjectAltName=DNS:other.test,DNS:*.wild.test\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE'
leaf client ca "duplex test client" $'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE'
ca rogue-ca "Unknown Test CA"
leaf rogue rogue-ca "localhost" "$server_ext"
