package stack

import "github.com/idstack/idstack/infra/config"

var newSecrets = config.NewSecrets
