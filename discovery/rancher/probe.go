package rancher

// Probe connects to Rancher once, as the provider's first read does, and
// returns why it cannot, in plain words (a rejected key, a key that sees
// no or several environments, a timeout). `edge check --online` uses it;
// it reads no stacks and keeps nothing.
func Probe(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	_, err := connect(cfg.withDefaults(), defaultPageLimit)
	return err
}
