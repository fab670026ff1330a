package matrixsvc

// SetFaultBeforeCommit makes every sync of s fail after it was applied but before its
// transaction commits, with f's error (a crash at the worst moment); nil ends the fault. Only
// tests can call it: no production code path sets the hook.
func (s *Service) SetFaultBeforeCommit(f func() error) { s.faultBeforeCommit = f }
