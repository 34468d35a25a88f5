package helm_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"
)

// TestUmbrellaContract: the keys the Terraform region module sets exist in
// idstack-region's values.yaml and schema. Renaming one breaks Terraform.
func TestUmbrellaContract(t *testing.T) {
	contract := []string{
		"region.name", "region.domain", "region.primary", "global.issuer",
		"database.existingSecret", "database.certificatesSecret",
		"kratos.secrets.existingSecret", "hydra.secrets.existingSecret",
		"keyrotation.vault.address", "keyrotation.vault.role", "keyrotation.vault.mount",
		"kratos.enabled", "hydra.enabled", "bridge.enabled", "keyrotation.enabled",
	}
	var values, schema map[string]any
	for path, dst := range map[string]*map[string]any{"values.yaml": &values, "values.schema.json": &schema} {
		data, err := os.ReadFile(filepath.Join(umbrella, path))
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(data, dst); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	for _, key := range contract {
		v, s := any(values), any(schema)
		for _, k := range strings.Split(key, ".") {
			vm, _ := v.(map[string]any)
			v = vm[k]
			sm, _ := s.(map[string]any)
			props, _ := sm["properties"].(map[string]any)
			s = props[k]
		}
		if v == nil {
			t.Errorf("values.yaml: contract key %s missing", key)
		}
		if s == nil {
			t.Errorf("values.schema.json: contract key %s not described", key)
		}
	}
}

// renderObjects renders a chart with a values file and decodes it strictly.
func renderObjects(t *testing.T, chartName, valuesName string, edit func(map[string]any)) []object {
	t.Helper()
	vals := readValues(t, chartName, valuesName)
	if edit != nil {
		edit(vals)
	}
	out, err := render(t, loadChart(t, chartName), vals)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return decodeStrict(t, out)
}

func find[T any](objs []object, name string) (T, bool) {
	for _, o := range objs {
		if v, ok := o.Obj.(T); ok && o.Name == name {
			return v, true
		}
	}
	var zero T
	return zero, false
}

// TestPrimaryOnlyWorkloads: the Kratos courier, the Hydra janitor and key
// rotation run in the primary region only; each is a singleton there.
func TestPrimaryOnlyWorkloads(t *testing.T) {
	primary := renderObjects(t, umbrella, "production", nil)
	courier, ok := find[*appsv1.Deployment](primary, "eu-kratos-courier")
	if !ok {
		t.Fatal("primary region: no courier Deployment")
	}
	if courier.Spec.Replicas == nil || *courier.Spec.Replicas != 1 || courier.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("courier: replicas %v, strategy %q; want 1 and Recreate (never two at once)", courier.Spec.Replicas, courier.Spec.Strategy.Type)
	}
	for _, o := range primary {
		if hpa, ok := o.Obj.(*autoscalingv2.HorizontalPodAutoscaler); ok && hpa.Spec.ScaleTargetRef.Name == courier.Name {
			t.Errorf("HPA %s scales the courier", o.Name)
		}
	}
	for _, name := range []string{"eu-hydra-janitor", "eu-keyrotation"} {
		cj, ok := find[*batchv1.CronJob](primary, name)
		if !ok {
			t.Errorf("primary region: no CronJob %s", name)
			continue
		}
		if cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
			t.Errorf("%s: concurrencyPolicy %q, want Forbid", name, cj.Spec.ConcurrencyPolicy)
		}
	}
	kr, _ := find[*batchv1.CronJob](primary, "eu-keyrotation")
	if kr != nil {
		c := kr.Spec.JobTemplate.Spec.Template.Spec.Containers[0]
		if strings.Join(c.Args, " ") != "step" {
			t.Errorf("keyrotation args %q, want step", c.Args)
		}
		if kr.Spec.JobTemplate.Spec.Template.Spec.ServiceAccountName != "eu-keyrotation" {
			t.Errorf("keyrotation ServiceAccount %q, want eu-keyrotation", kr.Spec.JobTemplate.Spec.Template.Spec.ServiceAccountName)
		}
	}

	secondary := renderObjects(t, umbrella, "minimal", nil)
	for _, name := range []string{"eu-kratos-courier"} {
		if _, ok := find[*appsv1.Deployment](secondary, name); ok {
			t.Errorf("secondary region renders %s", name)
		}
	}
	for _, o := range secondary {
		if _, ok := o.Obj.(*batchv1.CronJob); ok {
			t.Errorf("secondary region renders CronJob %s", o.Name)
		}
	}
}

// TestRegionFlowsEverywhere: the region's name reaches every object's
// labels, and its hosts every Ingress and config.
func TestRegionFlowsEverywhere(t *testing.T) {
	objs := renderObjects(t, umbrella, "minimal", nil)
	hosts := map[string]bool{}
	for _, o := range objs {
		if o.Labels["idstack.dev/region"] != "us-east" {
			t.Errorf("%s %s: label idstack.dev/region %q, want us-east", o.Kind, o.Name, o.Labels["idstack.dev/region"])
		}
		if ing, ok := o.Obj.(*networkingv1.Ingress); ok {
			for _, r := range ing.Spec.Rules {
				hosts[r.Host] = true
			}
		}
	}
	for _, h := range []string{"login.us-east.idstack.example.com", "kratos.us-east.idstack.example.com", "hydra.us-east.idstack.example.com"} {
		if !hosts[h] {
			t.Errorf("no Ingress for %s (got %v)", h, hosts)
		}
	}
}

// TestComponentsRenderNothingInsideUmbrella: a component chart's own
// templates are silent when global.idstackUmbrella is set, so the umbrella
// never renders a component twice.
func TestComponentsRenderNothingInsideUmbrella(t *testing.T) {
	for _, name := range charts[:4] {
		t.Run(name, func(t *testing.T) {
			vals := readValues(t, name, "minimal")
			set(vals, "global.idstackUmbrella", true)
			out, err := render(t, loadChart(t, name), vals)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			if objs := decodeStrict(t, out); len(objs) != 0 {
				t.Errorf("rendered %d objects, want none", len(objs))
			}
		})
	}
}

// TestMigrationModes: job renders a pre-install/pre-upgrade hook and no
// initContainer; initContainer the reverse; none neither.
func TestMigrationModes(t *testing.T) {
	for _, chartName := range []string{"kratos", "hydra"} {
		for _, mode := range []string{"job", "initContainer", "none"} {
			t.Run(chartName+"/"+mode, func(t *testing.T) {
				objs := renderObjects(t, chartName, "minimal", func(v map[string]any) { set(v, "migration.mode", mode) })
				job, hasJob := find[*batchv1.Job](objs, "eu-"+chartName+"-migrate")
				dep, _ := find[*appsv1.Deployment](objs, "eu-"+chartName)
				if dep == nil {
					t.Fatal("no Deployment")
				}
				hasInit := len(dep.Spec.Template.Spec.InitContainers) > 0
				if hasJob != (mode == "job") || hasInit != (mode == "initContainer") {
					t.Errorf("job %v, initContainer %v", hasJob, hasInit)
				}
				if hasJob && job.Annotations["helm.sh/hook"] != "pre-install,pre-upgrade" {
					t.Errorf("migration Job hook %q, want pre-install,pre-upgrade", job.Annotations["helm.sh/hook"])
				}
			})
		}
	}
}

// TestSwitches: HPA, PDB, ServiceMonitor and topology spread are off in
// the minimal values and on in the production-like ones.
func TestSwitches(t *testing.T) {
	for _, name := range []string{"kratos", "hydra", "bridge"} {
		t.Run(name, func(t *testing.T) {
			count := func(objs []object) (kinds map[string]int, spread int) {
				kinds = map[string]int{}
				for _, o := range objs {
					kinds[o.Kind]++
					if d, ok := o.Obj.(*appsv1.Deployment); ok {
						spread += len(d.Spec.Template.Spec.TopologySpreadConstraints)
					}
				}
				return kinds, spread
			}
			minKinds, minSpread := count(renderObjects(t, name, "minimal", nil))
			prodKinds, prodSpread := count(renderObjects(t, name, "production", nil))
			for _, k := range []string{"HorizontalPodAutoscaler", "PodDisruptionBudget", "ServiceMonitor"} {
				if minKinds[k] != 0 || prodKinds[k] != 1 {
					t.Errorf("%s: %d in minimal, %d in production; want 0 and 1", k, minKinds[k], prodKinds[k])
				}
			}
			if minSpread != 0 || prodSpread == 0 {
				t.Errorf("topologySpreadConstraints: %d in minimal, %d in production", minSpread, prodSpread)
			}
		})
	}
}

// TestNameOverride: nameOverride replaces the chart's name in every object's
// name and in the app.kubernetes.io/name label, selectors included.
func TestNameOverride(t *testing.T) {
	for _, name := range charts[:4] {
		t.Run(name, func(t *testing.T) {
			objs := renderObjects(t, name, "minimal", func(v map[string]any) { set(v, "nameOverride", "idp") })
			for _, o := range objs {
				if !strings.HasPrefix(o.Name, "eu-idp") && o.Kind != "ClusterRoleBinding" {
					t.Errorf("%s %s: name does not start with eu-idp", o.Kind, o.Name)
				}
				if o.Labels["app.kubernetes.io/name"] != "idp" {
					t.Errorf("%s %s: app.kubernetes.io/name %q, want idp", o.Kind, o.Name, o.Labels["app.kubernetes.io/name"])
				}
				if d, ok := o.Obj.(*appsv1.Deployment); ok && d.Spec.Selector.MatchLabels["app.kubernetes.io/name"] != "idp" {
					t.Errorf("Deployment %s: selector %v", o.Name, d.Spec.Selector.MatchLabels)
				}
			}
		})
	}
}
