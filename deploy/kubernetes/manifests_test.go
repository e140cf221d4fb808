// Package kubernetes holds attachmentd's Kubernetes manifests. Its tests
// decode every manifest strictly into the Kubernetes API types, as the API
// server would, and check the manifests and the repository's Dockerfile
// against the defaults that the attachmentd binary itself prints with --help.
package kubernetes

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// repoRoot is the repository's root, seen from this directory.
const repoRoot = "../.."

const (
	appName       = "attachmentd"
	nameLabel     = "app.kubernetes.io/name"
	bookingSecret = "attachmentd-booking" // the Secret README.md tells how to create
	nonRootID     = 65532                 // distroless's nonroot user and group
)

// decode decodes one YAML document into the API type that its apiVersion and
// kind name, as strictly as the API server does: an unknown, misspelt or
// differently cased field, a duplicate key, a value of the wrong type or a
// kind other than the four that this directory holds is an error. A document
// with no object (only comments) decodes to nil.
func decode(doc []byte) (any, error) {
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return nil, err
	}
	if string(bytes.TrimSpace(j)) == "null" {
		return nil, nil
	}
	var typeMeta metav1.TypeMeta
	if err := kjson.UnmarshalCaseSensitivePreserveInts(j, &typeMeta); err != nil {
		return nil, err
	}
	var obj any
	switch typeMeta.APIVersion + " " + typeMeta.Kind {
	case "apps/v1 Deployment":
		obj = &appsv1.Deployment{}
	case "v1 Service":
		obj = &corev1.Service{}
	case "policy/v1 PodDisruptionBudget":
		obj = &policyv1.PodDisruptionBudget{}
	case "autoscaling/v2 HorizontalPodAutoscaler":
		obj = &autoscalingv2.HorizontalPodAutoscaler{}
	default:
		return nil, fmt.Errorf("apiVersion %q, kind %q: not one of apps/v1 Deployment, v1 Service, policy/v1 PodDisruptionBudget, autoscaling/v2 HorizontalPodAutoscaler",
			typeMeta.APIVersion, typeMeta.Kind)
	}
	strictErrs, err := kjson.UnmarshalStrict(j, obj)
	if err != nil {
		return nil, err
	}
	if len(strictErrs) > 0 {
		return nil, errors.Join(strictErrs...)
	}
	return obj, nil
}

// splitDocuments splits a YAML stream at its "---" lines.
func splitDocuments(data []byte) [][]byte {
	var docs [][]byte
	var doc bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "---" || strings.HasPrefix(line, "--- ") {
			docs = append(docs, bytes.Clone(doc.Bytes()))
			doc.Reset()
			continue
		}
		doc.WriteString(line)
		doc.WriteByte('\n')
	}
	return append(docs, doc.Bytes())
}

// manifests is every object in this directory's manifests: exactly one of each.
type manifests struct {
	deployment *appsv1.Deployment
	service    *corev1.Service
	pdb        *policyv1.PodDisruptionBudget
	hpa        *autoscalingv2.HorizontalPodAutoscaler
}

// loadManifests decodes every file that `kubectl apply -f` would read here.
func loadManifests(t *testing.T) manifests {
	t.Helper()
	var files []string
	for _, pattern := range []string{"*.yaml", "*.yml", "*.json"} {
		matches, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, matches...)
	}
	var m manifests
	var metas []*metav1.ObjectMeta
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range splitDocuments(data) {
			obj, err := decode(doc)
			if err != nil {
				t.Fatalf("%s, document %d: %v", file, i+1, err)
			}
			var once bool
			switch o := obj.(type) {
			case nil:
				continue
			case *appsv1.Deployment:
				once, m.deployment = m.deployment == nil, o
				metas = append(metas, &o.ObjectMeta)
			case *corev1.Service:
				once, m.service = m.service == nil, o
				metas = append(metas, &o.ObjectMeta)
			case *policyv1.PodDisruptionBudget:
				once, m.pdb = m.pdb == nil, o
				metas = append(metas, &o.ObjectMeta)
			case *autoscalingv2.HorizontalPodAutoscaler:
				once, m.hpa = m.hpa == nil, o
				metas = append(metas, &o.ObjectMeta)
			}
			if !once {
				t.Fatalf("%s, document %d: a second %T", file, i+1, obj)
			}
		}
	}
	if m.deployment == nil || m.service == nil || m.pdb == nil || m.hpa == nil {
		t.Fatalf("%v hold no Deployment, Service, PodDisruptionBudget or HorizontalPodAutoscaler: got %+v", files, m)
	}
	for _, meta := range metas {
		if meta.Namespace != "" {
			t.Errorf("%s has namespace %q; the manifests go into whatever namespace kubectl is given", meta.Name, meta.Namespace)
		}
		if got := meta.Labels[nameLabel]; got != appName {
			t.Errorf("%s has label %s=%q, want %q", meta.Name, nameLabel, got, appName)
		}
	}
	return m
}

// container is the Deployment's attachmentd container.
func (m manifests) container(t *testing.T) *corev1.Container {
	t.Helper()
	for i, c := range m.deployment.Spec.Template.Spec.Containers {
		if c.Name == appName {
			return &m.deployment.Spec.Template.Spec.Containers[i]
		}
	}
	t.Fatalf("the Deployment has no container named %q", appName)
	return nil
}

// helpOutput builds attachmentd and returns what its --help prints.
var helpOutput = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "attachmentd-help")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "attachmentd")
	build := exec.Command("go", "build", "-o", bin, "./cmd/attachmentd")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/attachmentd: %v\n%s", err, out)
	}
	var out bytes.Buffer
	help := exec.Command(bin, "--help")
	help.Stdout, help.Stderr = &out, &out
	err = help.Run()
	// flag.ErrHelp: attachmentd exits with status 2 after printing the usage.
	if exit := (*exec.ExitError)(nil); err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 2) {
		return "", fmt.Errorf("attachmentd --help: %v\n%s", err, out.Bytes())
	}
	return out.String(), nil
})

// flagDefaults reads the flags and their defaults from the output of
// flag.FlagSet.PrintDefaults: for each flag a line "  -name type", then lines
// of usage indented by "    \t", the last of which ends in "(default value)"
// (a string value is quoted). A flag whose default is its type's zero value
// shows none, and maps to "".
func flagDefaults(help string) map[string]string {
	defaults := make(map[string]string)
	var name string
	for line := range strings.Lines(help) {
		line = strings.TrimRight(line, "\r\n")
		usage := ""
		switch {
		case strings.HasPrefix(line, "  -"):
			// "  -name type", or "  -x\tusage" for a one-letter name.
			head, rest, _ := strings.Cut(line[len("  -"):], "\t")
			name, usage = strings.Fields(head + " ")[0], rest
			defaults[name] = ""
		case strings.HasPrefix(line, "    \t") && name != "":
			usage = line
		default:
			name = ""
			continue
		}
		// The default closes the flag's last line of usage.
		if i := strings.LastIndex(usage, " (default "); i >= 0 && strings.HasSuffix(usage, ")") {
			def := usage[i+len(" (default ") : len(usage)-1]
			if unquoted, err := strconv.Unquote(def); err == nil {
				def = unquoted
			}
			defaults[name] = def
		}
	}
	return defaults
}

// serverDefault is the default of attachmentd's flag -name.
func serverDefault(t *testing.T, name string) string {
	t.Helper()
	help, err := helpOutput()
	if err != nil {
		t.Fatal(err)
	}
	def, ok := flagDefaults(help)[name]
	if !ok {
		t.Fatalf("attachmentd --help lists no -%s flag, whose default the manifests rely on; it printed:\n%s", name, help)
	}
	if def == "" {
		t.Fatalf("attachmentd --help shows no default for -%s; it printed:\n%s", name, help)
	}
	return def
}

// defaultPort is the port of the default listen address of flag -name.
func defaultPort(t *testing.T, name string) int32 {
	t.Helper()
	addr := serverDefault(t, name)
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("-%s defaults to %q, not host:port: %v", name, addr, err)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		t.Fatalf("-%s defaults to %q, whose port is no number from 1 to 65535", name, addr)
	}
	return int32(p)
}

// defaultDuration is the default of the duration flag -name.
func defaultDuration(t *testing.T, name string) time.Duration {
	t.Helper()
	def := serverDefault(t, name)
	d, err := time.ParseDuration(def)
	if err != nil {
		t.Fatalf("-%s defaults to %q, not a duration: %v", name, def, err)
	}
	return d
}

func TestFlagDefaults(t *testing.T) {
	help := `Usage: attachmentd [flags]

Flags:
  -drain-delay duration
    	after SIGTERM, keep serving (env ATTACHMENTD_DRAIN_DELAY) (default 5s)
  -listen string
    	gRPC listen address,
    	host:port or unix:///path (default ":50051")
  -sandbox
    	serve against the sandbox
  -v	verbose (default true)
`
	got := flagDefaults(help)
	want := map[string]string{"drain-delay": "5s", "listen": ":50051", "sandbox": "", "v": "true"}
	if len(got) != len(want) {
		t.Errorf("flagDefaults = %q, want %q", got, want)
	}
	for name, def := range want {
		if g, ok := got[name]; !ok || g != def {
			t.Errorf("flagDefaults()[%q] = %q, %v; want %q", name, g, ok, def)
		}
	}
}

// TestDecodeRejects proves that decode catches what the API server would
// refuse or, worse, silently drop: each case spoils one thing in a manifest
// that decodes.
func TestDecodeRejects(t *testing.T) {
	const valid = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: attachmentd
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: attachmentd
  template:
    metadata:
      labels:
        app.kubernetes.io/name: attachmentd
      annotations:
        prometheus.io/scrape: "true"
    spec:
      terminationGracePeriodSeconds: 45
      containers:
        - name: attachmentd
          image: attachmentd:dev
          readinessProbe:
            grpc:
              port: 50051
`
	if _, err := decode([]byte(valid)); err != nil {
		t.Fatalf("decode(valid) = %v, want no error", err)
	}
	for _, tc := range []struct{ name, old, new string }{
		{"misspelt field", "readinessProbe:", "readinesProbe:"},
		{"misspelt pod field", "terminationGracePeriodSeconds:", "terminationGracePeriodSecond:"},
		{"field in another case", "readinessProbe:", "ReadinessProbe:"},
		{"duplicate key", "  replicas: 2\n", "  replicas: 2\n  replicas: 3\n"},
		{"named port in a gRPC probe", "port: 50051", "port: grpc"},
		{"unquoted boolean annotation", `"true"`, "true"},
		{"unknown kind", "kind: Deployment", "kind: Deploymnet"},
		{"retired apiVersion", "apiVersion: apps/v1", "apiVersion: extensions/v1beta1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(valid, tc.old) {
				t.Fatalf("the valid manifest holds no %q to replace", tc.old)
			}
			spoilt := strings.Replace(valid, tc.old, tc.new, 1)
			if obj, err := decode([]byte(spoilt)); err == nil {
				t.Errorf("decode with %q for %q = %+v, nil; want an error", tc.new, tc.old, obj)
			}
		})
	}
}

func TestManifestsDecode(t *testing.T) {
	loadManifests(t)
}

func TestDeploymentMatchesServerDefaults(t *testing.T) {
	m := loadManifests(t)
	c := m.container(t)
	pod := &m.deployment.Spec.Template

	t.Run("settings left to their defaults", func(t *testing.T) {
		for _, name := range []string{"listen", "metrics-listen", "drain-delay", "shutdown-timeout"} {
			env := "ATTACHMENTD_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
			for _, e := range c.Env {
				if e.Name == env {
					t.Errorf("the container sets %s, but the ports and periods here are checked against -%s's default", env, name)
				}
			}
			for _, arg := range slices.Concat(c.Command, c.Args) {
				if f := strings.TrimLeft(arg, "-"); f != arg && (f == name || strings.HasPrefix(f, name+"=")) {
					t.Errorf("the container passes %q, but the ports and periods here are checked against -%s's default", arg, name)
				}
			}
		}
	})
	t.Run("grpc", func(t *testing.T) {
		listen := defaultPort(t, "listen")
		if got := containerPort(c, "grpc"); got != listen {
			t.Errorf("container port grpc = %d, want %d (-listen's default)", got, listen)
		}
		probes := []struct {
			name, service string
			probe         *corev1.Probe
		}{
			{"readinessProbe", "", c.ReadinessProbe},
			{"livenessProbe", "liveness", c.LivenessProbe},
			// A startup probe on readiness would restart pods that cannot
			// reach Booking yet.
			{"startupProbe", "liveness", c.StartupProbe},
		}
		for _, p := range probes {
			if p.probe == nil {
				if p.name != "startupProbe" {
					t.Errorf("the container has no %s", p.name)
				}
				continue
			}
			g := p.probe.GRPC
			if g == nil {
				t.Errorf("%s is not a gRPC probe: %+v", p.name, p.probe.ProbeHandler)
				continue
			}
			if g.Port != listen {
				t.Errorf("%s checks port %d, want %d (-listen's default)", p.name, g.Port, listen)
			}
			if service := ptrValue(g.Service); service != p.service {
				t.Errorf("%s checks service %q, want %q", p.name, service, p.service)
			}
		}
	})
	t.Run("metrics", func(t *testing.T) {
		metrics := defaultPort(t, "metrics-listen")
		if got := containerPort(c, "metrics"); got != metrics {
			t.Errorf("container port metrics = %d, want %d (-metrics-listen's default)", got, metrics)
		}
		annotations := pod.Annotations
		if port, ok := annotations["prometheus.io/port"]; ok && port != strconv.Itoa(int(metrics)) {
			t.Errorf("annotation prometheus.io/port = %q, want %d", port, metrics)
		}
		if p, ok := annotations["prometheus.io/path"]; ok && p != "/metrics" {
			t.Errorf("annotation prometheus.io/path = %q, want /metrics", p)
		}
	})
	t.Run("terminationGracePeriodSeconds", func(t *testing.T) {
		drain, shutdown := defaultDuration(t, "drain-delay"), defaultDuration(t, "shutdown-timeout")
		grace := time.Duration(ptrValue(pod.Spec.TerminationGracePeriodSeconds)) * time.Second
		if pod.Spec.TerminationGracePeriodSeconds == nil || grace <= drain+shutdown {
			t.Errorf("terminationGracePeriodSeconds = %v, want more than -drain-delay %v + -shutdown-timeout %v", grace, drain, shutdown)
		}
	})
}

func TestDeploymentSecurity(t *testing.T) {
	m := loadManifests(t)
	c := m.container(t)
	spec := &m.deployment.Spec.Template.Spec
	podSC := spec.SecurityContext
	if podSC == nil {
		podSC = &corev1.PodSecurityContext{}
	}
	sc := c.SecurityContext
	if sc == nil {
		t.Fatal("the container has no securityContext")
	}
	// A container's settings win over the pod's.
	runAsNonRoot := cmp.Or(sc.RunAsNonRoot, podSC.RunAsNonRoot)
	runAsUser := cmp.Or(sc.RunAsUser, podSC.RunAsUser)
	runAsGroup := cmp.Or(sc.RunAsGroup, podSC.RunAsGroup)
	seccomp := cmp.Or(sc.SeccompProfile, podSC.SeccompProfile)

	if !ptrValue(runAsNonRoot) {
		t.Error("runAsNonRoot is not true")
	}
	if ptrValue(runAsUser) != nonRootID || ptrValue(runAsGroup) != nonRootID {
		t.Errorf("runAsUser, runAsGroup = %v, %v; want %d, %d", fmtPtr(runAsUser), fmtPtr(runAsGroup), nonRootID, nonRootID)
	}
	if !ptrValue(sc.ReadOnlyRootFilesystem) {
		t.Error("readOnlyRootFilesystem is not true")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("allowPrivilegeEscalation is not false")
	}
	if ptrValue(sc.Privileged) {
		t.Error("the container is privileged")
	}
	if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
		t.Errorf("capabilities = %+v, want drop [ALL] and nothing added", sc.Capabilities)
	}
	if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("seccompProfile = %+v, want type RuntimeDefault", seccomp)
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Error("automountServiceAccountToken is not false: attachmentd never calls the Kubernetes API")
	}
}

func TestDeploymentBookingCredentials(t *testing.T) {
	m := loadManifests(t)
	c := m.container(t)
	spec := &m.deployment.Spec.Template.Spec
	env := make(map[string]corev1.EnvVar)
	for _, e := range c.Env {
		env[e.Name] = e
	}

	id := env["BOOKING_CLIENT_ID"].ValueFrom
	if id == nil || id.SecretKeyRef == nil || id.SecretKeyRef.Name != bookingSecret || id.SecretKeyRef.Key != "client-id" {
		t.Errorf("BOOKING_CLIENT_ID = %+v, want a secretKeyRef to key client-id of Secret %s", env["BOOKING_CLIENT_ID"], bookingSecret)
	}
	if _, ok := env["BOOKING_CLIENT_SECRET"]; ok {
		t.Error("BOOKING_CLIENT_SECRET is set: attachmentd refuses it together with BOOKING_CLIENT_SECRET_FILE, and a file keeps the secret out of the environment")
	}
	file := env["BOOKING_CLIENT_SECRET_FILE"].Value
	if !path.IsAbs(file) {
		t.Fatalf("BOOKING_CLIENT_SECRET_FILE = %q, want the absolute path of the mounted secret", file)
	}
	dir, name := path.Split(file)
	var mount *corev1.VolumeMount
	for i, vm := range c.VolumeMounts {
		if path.Clean(vm.MountPath) == path.Clean(dir) {
			mount = &c.VolumeMounts[i]
		}
	}
	if mount == nil {
		t.Fatalf("no volume is mounted at %s, where BOOKING_CLIENT_SECRET_FILE points", dir)
	}
	if !mount.ReadOnly || mount.SubPath != "" {
		t.Errorf("the mount at %s = %+v, want readOnly and no subPath (a subPath mount never sees a rotated Secret)", dir, mount)
	}
	var secret *corev1.SecretVolumeSource
	for _, v := range spec.Volumes {
		if v.Name == mount.Name {
			secret = v.Secret
		}
	}
	if secret == nil || secret.SecretName != bookingSecret {
		t.Fatalf("volume %q = %+v, want Secret %s", mount.Name, secret, bookingSecret)
	}
	// The file comes from key client-secret, and user 65532 can read it.
	key, mode := name, ptrValue(secret.DefaultMode)
	if secret.DefaultMode == nil {
		mode = corev1.SecretVolumeSourceDefaultMode
	}
	if len(secret.Items) > 0 {
		key = ""
		for _, item := range secret.Items {
			if item.Path == name {
				key, mode = item.Key, cmp.Or(ptrValue(item.Mode), mode)
			}
		}
	}
	if key != "client-secret" {
		t.Errorf("%s holds key %q of Secret %s, want client-secret", file, key, bookingSecret)
	}
	// Secret files belong to root, and to the group fsGroup if it is set.
	fsGroup := spec.SecurityContext != nil && ptrValue(spec.SecurityContext.FSGroup) == nonRootID
	if mode&0o004 == 0 && !(mode&0o040 != 0 && fsGroup) {
		t.Errorf("%s has mode %#o and fsGroup %v: user %d cannot read it", file, mode, fsGroup, nonRootID)
	}
}

func TestDeploymentResources(t *testing.T) {
	m := loadManifests(t)
	c := m.container(t)
	req, lim := c.Resources.Requests, c.Resources.Limits
	for _, q := range []struct {
		name string
		list corev1.ResourceList
		res  corev1.ResourceName
	}{{"requests", req, corev1.ResourceCPU}, {"requests", req, corev1.ResourceMemory}, {"limits", lim, corev1.ResourceMemory}} {
		if v, ok := q.list[q.res]; !ok || v.IsZero() {
			t.Errorf("resources.%s.%s is not set", q.name, q.res)
		}
	}
	limit := lim[corev1.ResourceMemory]
	if r := req[corev1.ResourceMemory]; r.Cmp(limit) > 0 {
		t.Errorf("memory request %s is above the limit %s", r.String(), limit.String())
	}
	for _, e := range c.Env {
		if e.Name != "GOMEMLIMIT" {
			continue
		}
		// Go writes 460MiB where Kubernetes writes 460Mi.
		q, err := resource.ParseQuantity(strings.TrimSuffix(e.Value, "B"))
		if err != nil {
			t.Errorf("GOMEMLIMIT = %q: %v", e.Value, err)
		} else if q.Cmp(limit) >= 0 {
			t.Errorf("GOMEMLIMIT = %s, want less than the memory limit %s", e.Value, limit.String())
		}
	}
}

func TestPodLabelsSelected(t *testing.T) {
	m := loadManifests(t)
	podLabels := labels.Set(m.deployment.Spec.Template.Labels)
	selects := func(what string, sel *metav1.LabelSelector) {
		t.Helper()
		s, err := metav1.LabelSelectorAsSelector(sel)
		if err != nil || s.Empty() || !s.Matches(podLabels) {
			t.Errorf("%s selector %v (%v) does not select the pod labels %v", what, sel, err, podLabels)
		}
	}
	selects("Deployment", m.deployment.Spec.Selector)
	selects("PodDisruptionBudget", m.pdb.Spec.Selector)
	for _, tsc := range m.deployment.Spec.Template.Spec.TopologySpreadConstraints {
		selects("topologySpreadConstraints", tsc.LabelSelector)
	}
	selects("Service", &metav1.LabelSelector{MatchLabels: m.service.Spec.Selector})
	target := m.hpa.Spec.ScaleTargetRef
	if target.APIVersion != "apps/v1" || target.Kind != "Deployment" || target.Name != m.deployment.Name {
		t.Errorf("HorizontalPodAutoscaler scales %+v, want apps/v1 Deployment %s", target, m.deployment.Name)
	}
}

func TestService(t *testing.T) {
	m := loadManifests(t)
	c := m.container(t)
	svc := m.service
	if svc.Spec.Type != "" && svc.Spec.Type != corev1.ServiceTypeClusterIP {
		t.Errorf("Service type = %s, want ClusterIP", svc.Spec.Type)
	}
	for _, want := range []struct {
		name, flag, appProtocol string
	}{
		{"grpc", "listen", "grpc"},
		{"metrics", "metrics-listen", "http"},
	} {
		t.Run(want.name, func(t *testing.T) {
			port := defaultPort(t, want.flag)
			i := slices.IndexFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == want.name })
			if i < 0 {
				t.Fatalf("the Service has no port named %s", want.name)
			}
			sp := svc.Spec.Ports[i]
			if sp.Port != port {
				t.Errorf("Service port %s = %d, want %d (-%s's default)", want.name, sp.Port, port, want.flag)
			}
			target := sp.TargetPort
			got := target.IntVal
			if target.Type == intstr.String {
				got = containerPort(c, target.StrVal)
			} else if target.IntVal == 0 {
				got = sp.Port // targetPort defaults to port
			}
			if got != port {
				t.Errorf("Service port %s targets %s, container port %d; want %d (-%s's default)", want.name, target.String(), got, port, want.flag)
			}
			if ptrValue(sp.AppProtocol) != want.appProtocol {
				t.Errorf("Service port %s has appProtocol %q, want %q", want.name, ptrValue(sp.AppProtocol), want.appProtocol)
			}
			if sp.Protocol != "" && sp.Protocol != corev1.ProtocolTCP {
				t.Errorf("Service port %s has protocol %s, want TCP", want.name, sp.Protocol)
			}
		})
	}
}

func TestPodDisruptionBudgetAndAutoscaler(t *testing.T) {
	m := loadManifests(t)
	hpa := m.hpa.Spec
	if ptrValue(hpa.MinReplicas) != 2 || hpa.MaxReplicas != 10 {
		t.Errorf("HorizontalPodAutoscaler replicas = %v to %d, want 2 to 10", fmtPtr(hpa.MinReplicas), hpa.MaxReplicas)
	}
	cpu := slices.ContainsFunc(hpa.Metrics, func(ms autoscalingv2.MetricSpec) bool {
		return ms.Type == autoscalingv2.ResourceMetricSourceType && ms.Resource != nil &&
			ms.Resource.Name == corev1.ResourceCPU && ms.Resource.Target.Type == autoscalingv2.UtilizationMetricType &&
			ptrValue(ms.Resource.Target.AverageUtilization) > 0
	})
	if !cpu {
		t.Errorf("HorizontalPodAutoscaler metrics = %+v, want a CPU utilization target", hpa.Metrics)
	}
	if _, ok := m.container(t).Resources.Requests[corev1.ResourceCPU]; !ok {
		t.Error("the container requests no CPU, so the autoscaler cannot compute its utilization")
	}

	pdb := m.pdb.Spec
	if (pdb.MinAvailable == nil) == (pdb.MaxUnavailable == nil) {
		t.Fatalf("PodDisruptionBudget = %+v, want one of minAvailable and maxUnavailable", pdb)
	}
	// The budget must let a node drain go on with the fewest pods there are.
	if pdb.MinAvailable != nil && pdb.MinAvailable.Type == intstr.Int && pdb.MinAvailable.IntVal >= ptrValue(hpa.MinReplicas) {
		t.Errorf("PodDisruptionBudget minAvailable %d leaves no pod evictable at %d replicas", pdb.MinAvailable.IntVal, ptrValue(hpa.MinReplicas))
	}
	if pdb.MaxUnavailable != nil && pdb.MaxUnavailable.IntValue() == 0 && pdb.MaxUnavailable.Type == intstr.Int {
		t.Error("PodDisruptionBudget maxUnavailable 0 blocks every node drain")
	}
}

// dockerfileInstruction is one instruction of a Dockerfile, continuation
// lines joined.
type dockerfileInstruction struct {
	line    int
	keyword string // upper case
	args    string
}

// dockerfileStages splits a Dockerfile into its stages; comments and parser
// directives are left out.
func dockerfileStages(data string) [][]dockerfileInstruction {
	var stages [][]dockerfileInstruction
	var logical strings.Builder
	start := 0
	for i, line := range strings.Split(data, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if logical.Len() == 0 {
			start = i + 1
		}
		if cont, ok := strings.CutSuffix(trimmed, `\`); ok {
			logical.WriteString(cont + " ")
			continue
		}
		logical.WriteString(trimmed)
		keyword, args, _ := strings.Cut(logical.String(), " ")
		logical.Reset()
		in := dockerfileInstruction{start, strings.ToUpper(keyword), strings.TrimSpace(args)}
		if in.keyword == "FROM" {
			stages = append(stages, nil)
		}
		if len(stages) > 0 {
			stages[len(stages)-1] = append(stages[len(stages)-1], in)
		}
	}
	return stages
}

func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	stages := dockerfileStages(string(data))
	if len(stages) < 2 {
		t.Fatalf("the Dockerfile has %d stages, want a builder and a runtime stage", len(stages))
	}
	runtime := stages[len(stages)-1]
	t.Logf("runtime stage: %s", runtime[0].args)
	var user, entrypoint string
	var exposed []string
	for _, in := range runtime {
		switch in.keyword {
		case "USER":
			user = in.args
		case "ENTRYPOINT":
			entrypoint = in.args
		case "EXPOSE":
			for _, p := range strings.Fields(in.args) {
				exposed = append(exposed, strings.TrimSuffix(p, "/tcp"))
			}
		case "RUN":
			t.Errorf("line %d: RUN in the runtime stage, whose image has no shell", in.line)
		}
	}

	t.Run("non-root", func(t *testing.T) {
		// A numeric user lets the kubelet check runAsNonRoot against the image.
		uid, gid, _ := strings.Cut(user, ":")
		if n, err := strconv.Atoi(uid); err != nil || n == 0 {
			t.Fatalf("the runtime stage runs as user %q, want a numeric user other than 0", user)
		}
		spec := loadManifests(t).deployment.Spec.Template.Spec
		if spec.SecurityContext == nil {
			t.Fatal("the Deployment's pod has no securityContext")
		}
		if want := strconv.FormatInt(ptrValue(spec.SecurityContext.RunAsUser), 10); uid != want {
			t.Errorf("the runtime stage runs as user %s, the Deployment as %s", uid, want)
		}
		if want := strconv.FormatInt(ptrValue(spec.SecurityContext.RunAsGroup), 10); gid != "" && gid != want {
			t.Errorf("the runtime stage runs as group %s, the Deployment as %s", gid, want)
		}
	})
	t.Run("entrypoint", func(t *testing.T) {
		// The exec form: SIGTERM goes to attachmentd itself, with no shell between.
		if !strings.HasPrefix(entrypoint, "[") {
			t.Errorf("ENTRYPOINT %q, want the exec form [\"/attachmentd\"]", entrypoint)
		}
	})
	for _, flag := range []string{"listen", "metrics-listen"} {
		t.Run("EXPOSE -"+flag, func(t *testing.T) {
			port := strconv.Itoa(int(defaultPort(t, flag)))
			if !slices.Contains(exposed, port) {
				t.Errorf("the runtime stage exposes %v, not %s (-%s's default)", exposed, port, flag)
			}
		})
	}
}

func TestDockerfileStages(t *testing.T) {
	stages := dockerfileStages("# syntax=docker/dockerfile:1\nFROM golang AS build\nRUN a \\\n  b\n\nfrom scratch\n# comment\nUSER 1:2\nEXPOSE 1 2/tcp\n")
	if len(stages) != 2 || len(stages[0]) != 2 || len(stages[1]) != 3 {
		t.Fatalf("dockerfileStages = %+v, want 2 stages of 2 and 3 instructions", stages)
	}
	if got, want := stages[0][1], (dockerfileInstruction{3, "RUN", "a  b"}); got != want {
		t.Errorf("continued RUN = %+v, want %+v", got, want)
	}
	if got := stages[1][0]; got.keyword != "FROM" || got.args != "scratch" {
		t.Errorf("second FROM = %+v", got)
	}
}

// containerPort is the number of c's port called name, or 0.
func containerPort(c *corev1.Container, name string) int32 {
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	return 0
}

// ptrValue is *p, or the zero value for nil.
func ptrValue[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// fmtPtr formats *p, or "unset" for nil.
func fmtPtr[T any](p *T) string {
	if p == nil {
		return "unset"
	}
	return fmt.Sprint(*p)
}
