package helm_test

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// requiredLabels are on every object the charts render.
var requiredLabels = []string{
	"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version",
	"app.kubernetes.io/managed-by", "app.kubernetes.io/part-of", "helm.sh/chart",
}

// checkObject checks what every object of every chart must satisfy.
func checkObject(t *testing.T, chartName string, o object) {
	t.Helper()
	for _, l := range requiredLabels {
		if o.Labels[l] == "" {
			t.Errorf("%s %s: label %s missing", o.Kind, o.Name, l)
		}
	}
	switch obj := o.Obj.(type) {
	case *appsv1.Deployment:
		checkSelector(t, o, obj.Spec.Selector, obj.Spec.Template.Labels)
		if obj.Spec.Template.Annotations["checksum/config"] == "" {
			t.Errorf("Deployment %s: no checksum/config annotation: a config change would not roll the pods", o.Name)
		}
		checkPod(t, o, &obj.Spec.Template.Spec)
	case *batchv1.Job:
		checkPod(t, o, &obj.Spec.Template.Spec)
	case *batchv1.CronJob:
		if obj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
			t.Errorf("CronJob %s: concurrencyPolicy %q, want Forbid", o.Name, obj.Spec.ConcurrencyPolicy)
		}
		checkPod(t, o, &obj.Spec.JobTemplate.Spec.Template.Spec)
	}
}

func checkSelector(t *testing.T, o object, sel *metav1.LabelSelector, podLabels map[string]string) {
	t.Helper()
	if sel == nil || len(sel.MatchLabels) == 0 {
		t.Errorf("%s %s: no selector", o.Kind, o.Name)
		return
	}
	for k, v := range sel.MatchLabels {
		if podLabels[k] != v {
			t.Errorf("%s %s: selector %s=%s does not match the pod template (%q)", o.Kind, o.Name, k, v, podLabels[k])
		}
	}
}

// checkPod: non-root, read-only root filesystem, every capability dropped,
// no privilege escalation, seccomp RuntimeDefault; a tagged image and
// resource requests for every container.
func checkPod(t *testing.T, o object, spec *corev1.PodSpec) {
	t.Helper()
	psc := spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		t.Errorf("%s %s: pod securityContext.runAsNonRoot is not true", o.Kind, o.Name)
	}
	if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s %s: pod seccompProfile is not RuntimeDefault", o.Kind, o.Name)
	}
	if psc != nil && psc.RunAsUser != nil && *psc.RunAsUser == 0 {
		t.Errorf("%s %s: pod runs as uid 0", o.Kind, o.Name)
	}
	containers := append(slices.Clone(spec.InitContainers), spec.Containers...)
	if len(spec.Containers) == 0 {
		t.Errorf("%s %s: no containers", o.Kind, o.Name)
	}
	for _, c := range containers {
		where := o.Kind + " " + o.Name + " container " + c.Name
		sc := c.SecurityContext
		if sc == nil {
			t.Errorf("%s: no securityContext", where)
			continue
		}
		if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
			t.Errorf("%s: runAsNonRoot is not true", where)
		}
		if sc.RunAsUser != nil && *sc.RunAsUser == 0 {
			t.Errorf("%s: runs as uid 0", where)
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			t.Errorf("%s: readOnlyRootFilesystem is not true", where)
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Errorf("%s: allowPrivilegeEscalation is not false", where)
		}
		if sc.Privileged != nil && *sc.Privileged {
			t.Errorf("%s: privileged", where)
		}
		if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
			t.Errorf("%s: capabilities must drop ALL and add none, got %+v", where, sc.Capabilities)
		}
		if sc.SeccompProfile != nil && sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s: seccompProfile %q, want RuntimeDefault", where, sc.SeccompProfile.Type)
		}
		if i := strings.LastIndex(c.Image, ":"); i < 0 || i == len(c.Image)-1 || strings.Contains(c.Image[i:], "/") {
			t.Errorf("%s: image %q has no tag", where, c.Image)
		}
		if len(c.Resources.Requests) == 0 {
			t.Errorf("%s: no resource requests", where)
		}
	}
}
