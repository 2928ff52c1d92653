package webhook

// ResponseText is responseText, for the tests of package webhook_test.
var ResponseText = responseText
