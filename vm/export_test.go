package vm

// Crash stops the pool as a killed process would: no shutdown, no cleanup,
// the state database left as it is. Tests use it to exercise
// reconciliation.
func (p *Pool) Crash() {
	p.phase.Store(phaseClosed)
	p.halt()
}
