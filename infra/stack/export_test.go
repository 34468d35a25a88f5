package stack

import "github.com/idstack/idstack/infra/config"

// SetSecretsForTest replaces the secret generator until the returned
// function restores it.
func SetSecretsForTest(f func() (config.Secrets, error)) (restore func()) {
	old := newSecrets
	newSecrets = f
	return func() { newSecrets = old }
}
