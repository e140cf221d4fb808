package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// pki is a throwaway certificate authority with a server and a client
// certificate, written as PEM files.
type pki struct {
	pool                  *x509.CertPool
	caFile                string
	serverCert, serverKey string
	client                tls.Certificate
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTemplate := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	p := &pki{pool: x509.NewCertPool(), caFile: filepath.Join(dir, "ca.pem")}
	p.pool.AddCert(ca)
	writePEM(t, p.caFile, "CERTIFICATE", caDER)

	issue := func(serial int64, usage x509.ExtKeyUsage) ([]byte, *ecdsa.PrivateKey) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "attachmentd test"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
			ExtKeyUsage: []x509.ExtKeyUsage{usage}, KeyUsage: x509.KeyUsageDigitalSignature,
		}, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, key
	}
	serverDER, serverKey := issue(2, x509.ExtKeyUsageServerAuth)
	p.serverCert, p.serverKey = filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem")
	writePEM(t, p.serverCert, "CERTIFICATE", serverDER)
	keyDER, _ := x509.MarshalECPrivateKey(serverKey)
	writePEM(t, p.serverKey, "EC PRIVATE KEY", keyDER)

	clientDER, clientKey := issue(3, x509.ExtKeyUsageClientAuth)
	p.client = tls.Certificate{Certificate: [][]byte{clientDER}, PrivateKey: clientKey}
	return p
}

func writePEM(t *testing.T, path, kind string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// check reports whether a health check over creds succeeds.
func check(t *testing.T, addr string, creds credentials.TransportCredentials) error {
	t.Helper()
	conn := dial(t, addr, grpc.WithTransportCredentials(creds))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(false))
	return err
}

func TestTLS(t *testing.T) {
	p := newPKI(t)
	inst := start(t, nil, "--sandbox", "--tls-cert", p.serverCert, "--tls-key", p.serverKey)
	if line := inst.logs.waitFor(t, "attachmentd is serving"); line["tls"] != true || line["mutual_tls"] != false {
		t.Errorf("start-up line %v, want tls true and mutual_tls false", line)
	}
	if err := check(t, inst.addr, credentials.NewTLS(&tls.Config{RootCAs: p.pool})); err != nil {
		t.Errorf("TLS client: %v", err)
	}
	if err := check(t, inst.addr, insecure.NewCredentials()); err == nil {
		t.Error("a plaintext client was served by a TLS server")
	}
	if err := check(t, inst.addr, credentials.NewTLS(&tls.Config{})); err == nil {
		t.Error("a client that does not trust the CA completed the handshake")
	}
}

func TestMutualTLS(t *testing.T) {
	p := newPKI(t)
	inst := start(t, nil, "--sandbox", "--tls-cert", p.serverCert, "--tls-key", p.serverKey, "--tls-client-ca", p.caFile)
	if err := check(t, inst.addr, credentials.NewTLS(&tls.Config{RootCAs: p.pool, Certificates: []tls.Certificate{p.client}})); err != nil {
		t.Errorf("client with a certificate: %v", err)
	}
	if err := check(t, inst.addr, credentials.NewTLS(&tls.Config{RootCAs: p.pool})); err == nil {
		t.Error("a client without a certificate was served")
	}
	other := newPKI(t) // a certificate from another CA
	if err := check(t, inst.addr, credentials.NewTLS(&tls.Config{RootCAs: p.pool, Certificates: []tls.Certificate{other.client}})); err == nil {
		t.Error("a client certificate from an unknown CA was accepted")
	}
}
