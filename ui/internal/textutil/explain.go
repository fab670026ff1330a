package textutil

import "duet/matrixsvc"

// Explain is an error as one line for the person: what went wrong and, where it helps, what to
// do. A logged-out session says so in one way wherever it shows. The wording is made here, where
// errors are shown; the error itself keeps its chain.
func Explain(err error) string {
	if matrixsvc.IsLoggedOut(err) {
		return matrixsvc.ErrLoggedOut.Error()
	}
	return matrixsvc.Explain(err)
}
