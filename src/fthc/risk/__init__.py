"""Risk: outcomes a bank has for some customers (loans repaid or not), a calibrated model of them on behaviour,
risk for every customer (the credit-invisible included), and honest figures of how well segments separate it."""
